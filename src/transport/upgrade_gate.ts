import type { IncomingMessage } from 'node:http';
import type { EarshotMetrics } from '../observability/metrics.ts';
import type { AdmissionController } from './admission.ts';
import type { AuthIdentity, Authenticator } from './auth.ts';
import type { UpgradeGateResult } from './ws_server.ts';

/** What the gate hands to openSocket for an admitted upgrade. */
export interface GateContext {
  identity: AuthIdentity;
}

/**
 * The check before every WebSocket handshake: origin (403), key (401), then capacity (503 server full or
 * draining, 429 this key at its limit) with Retry-After. Every refusal is counted by reason. The slot
 * itself is taken after the handshake (same tick), by LiveSessions.open.
 */
export function createUpgradeGate(
  auth: Authenticator,
  admission: AdmissionController,
  metrics: EarshotMetrics,
): (req: IncomingMessage) => UpgradeGateResult {
  return (req) => {
    const decision = auth.authorizeUpgrade(req);
    if (!decision.ok) {
      admission.recordRejection(decision.status === 403 ? 'forbidden_origin' : 'unauthorized');
      return { ok: false, status: decision.status, code: decision.code, message: decision.message };
    }
    const refusal = admission.check(decision.identity.keyId);
    if (refusal) {
      metrics.sessionsRejected.inc({ reason: refusal.reason });
      return {
        ok: false,
        status: refusal.httpStatus,
        code: refusal.code,
        message: refusal.message,
        headers: { 'Retry-After': String(refusal.retryAfterS) },
      };
    }
    const context: GateContext = { identity: decision.identity };
    return { ok: true, context };
  };
}
