import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';

describe('TLS', () => {
  it('serves wss with a self-signed certificate that a client trusting it accepts, and reuses it on restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-tls-'));
    const server = await startTestServer({ server: { tls_self_signed: true, tls_self_signed_dir: dir } });
    try {
      expect(server.url.startsWith('wss://127.0.0.1:')).toBe(true);
      const ca = readFileSync(join(dir, 'cert.pem'));
      const client = await TestClient.connect(server.url, { ca });
      await client.roundTrip();
      await client.close();
      // Without trusting the certificate the connection is refused.
      await expect(TestClient.connect(server.url)).rejects.toThrow(/self[- ]signed|certificate/i);
    } finally {
      await server.close();
    }
    const again = await startTestServer({ server: { tls_self_signed: true, tls_self_signed_dir: dir } });
    try {
      const client = await TestClient.connect(again.url, { ca: readFileSync(join(dir, 'cert.pem')) });
      await client.close();
    } finally {
      await again.close();
    }
  });
});
