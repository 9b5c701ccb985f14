import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { EarshotError } from '../errors.ts';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where the certificate is on disk (for NODE_EXTRA_CA_CERTS). */
  certPath: string;
}

/** Where `--tls-self-signed` keeps its certificate, so clients can trust it once and restarts reuse it. */
export function selfSignedDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'earshot', 'tls');
}

const RENEW_BEFORE_EXPIRY_MS = 7 * 24 * 3600 * 1000;

/**
 * A self-signed certificate for localhost / 127.0.0.1 / ::1 (the `openai` package's connectors insist on
 * wss:). Reused while valid for at least another week; otherwise regenerated.
 */
export async function loadOrCreateSelfSigned(dir = selfSignedDir()): Promise<TlsMaterial> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    const validTo = Date.parse(new X509Certificate(cert).validTo);
    if (validTo - Date.now() > RENEW_BEFORE_EXPIRY_MS) return { cert, key: readFileSync(keyPath, 'utf8'), certPath };
  }
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  } as Parameters<typeof generate>[1]);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, certPath };
}

/** Reads a certificate and key given on the command line or in the config, with a clear error. */
export function loadTlsFiles(certFile: string, keyFile: string): TlsMaterial {
  try {
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certPath: certFile };
  } catch (err) {
    throw new EarshotError('E_CONFIG_INVALID', `Cannot read the TLS certificate or key: ${(err as Error).message}`);
  }
}
