/// <reference lib="dom" />
// What the page asks the server besides the session itself: its readiness (`/readyz`) and, when the user
// gives an API key, a short-lived ephemeral key to connect with, so the long-lived key never travels in a
// URL or a WebSocket subprotocol.

export interface Readiness {
  status: string;
  percent?: number;
}

export async function fetchReadiness(): Promise<Readiness> {
  try {
    const response = await fetch('/readyz', { cache: 'no-store' });
    const body = (await response.json()) as Partial<Readiness>;
    return {
      status: typeof body.status === 'string' ? body.status : response.ok ? 'ready' : 'not_ready',
      percent: body.percent,
    };
  } catch {
    return { status: 'unreachable' };
  }
}

export function readinessText(r: Readiness): string {
  if (r.status === 'downloading' && typeof r.percent === 'number')
    return `model downloading ${Math.round(r.percent)} %`;
  return (
    {
      ready: 'model ready',
      loading: 'model loading',
      model_missing: 'no model',
      model_invalid: 'model invalid',
      draining: 'shutting down',
      overloaded: 'overloaded',
      unreachable: 'server unreachable',
    }[r.status] ?? r.status
  );
}

/** Exchanges an API key for an ephemeral `ek_` key (POST /v1/realtime/client_secrets). */
export async function mintEphemeralKey(apiKey: string): Promise<string> {
  const response = await fetch('/v1/realtime/client_secrets', {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: '{}',
  });
  const body = (await response.json().catch(() => ({}))) as {
    value?: string;
    error?: { code?: string; message?: string };
  };
  if (!response.ok || typeof body.value !== 'string')
    throw new Error(`the key was refused (${body.error?.code ?? `HTTP ${response.status}`})`);
  return body.value;
}
