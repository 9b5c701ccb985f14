// The Host header check against DNS rebinding: a web page can point its own host name at 127.0.0.1 and
// then talk to a local server as "same-origin" (the browser sends Origin = Host = the attacker's name).
// The server therefore serves only the host names it is known by: without API keys, loopback names;
// with keys, `server.allowed_hosts` (empty = any). Applied to every HTTP request and upgrade.
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopbackHost } from './auth.ts';

export interface HostRefusal {
  status: 421;
  code: 'E_HOST_NOT_ALLOWED';
  message: string;
}

export type HostCheck = (headers: IncomingHttpHeaders) => HostRefusal | null;

/**
 * The host name of a Host header (`name[:port]`, `[v6]:port`), lower-case, without a trailing dot; null
 * for anything that is not a bare authority (userinfo, paths, spaces, a bad port).
 */
export function hostNameOf(header: string | undefined): string | null {
  if (header === undefined || header === '' || /[\s/\\?#@]/.test(header)) return null;
  let url: URL;
  try {
    url = new URL(`http://${header}`);
  } catch {
    return null;
  }
  const name = url.hostname.toLowerCase().replace(/\.$/, '');
  return name === '' ? null : name;
}

/**
 * Without keys: loopback names (localhost, *.localhost, 127.0.0.0/8, [::1]) on any port, plus
 * allowedHosts. With keys: allowedHosts plus loopback names, or any host when allowedHosts is empty.
 */
export function createHostCheck(opts: { allowedHosts: readonly string[]; authEnabled: boolean }): HostCheck {
  const allowed = new Set(opts.allowedHosts.map((h) => h.trim().toLowerCase().replace(/\.$/, '')));
  const anyHost = opts.authEnabled && allowed.size === 0;
  return (headers) => {
    if (anyHost) return null;
    const name = hostNameOf(headers.host);
    if (name !== null && (allowed.has(name) || isLoopbackHost(name))) return null;
    const shown = (headers.host ?? '').slice(0, 100);
    return {
      status: 421,
      code: 'E_HOST_NOT_ALLOWED',
      message: opts.authEnabled
        ? `This server does not serve the host ${JSON.stringify(shown)}; add it to server.allowed_hosts.`
        : `Without API keys this server serves only loopback host names (localhost, 127.0.0.1, [::1]), not ${JSON.stringify(shown)}; add it to server.allowed_hosts or configure API keys.`,
    };
  };
}
