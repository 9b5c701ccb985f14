import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClient } from '../../../scripts/build_client.ts';
import { createStaticRoute } from '../../../src/transport/static_route.ts';

// The static route only serves files: a missing build folder gets a page naming the fix (the server never
// builds), and once `npm run build` wrote it, the files of the build with a same-origin content policy.

let http: Server;
let base: string;
let outDir: string;

beforeAll(async () => {
  outDir = join(mkdtempSync(join(tmpdir(), 'earshot-client-')), 'client');
  const route = createStaticRoute({ outDir });
  http = createServer((req, res) => {
    void (async () => {
      if (!(await route(req, res, new URL(req.url ?? '/', 'http://localhost')))) res.writeHead(404).end('not found');
    })();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => http.close(resolve));
  rmSync(join(outDir, '..'), { recursive: true, force: true });
});

describe('static route', () => {
  it('answers 503 with a page naming `npm run build` while the build folder is missing, and builds nothing', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('npm run build');
    expect(html).toContain('E_CLIENT_BUILD');
    expect((await fetch(`${base}/app.js`, { method: 'HEAD' })).status).toBe(503);
    expect((await fetch(`${base}/package.json`)).status).toBe(404);
    expect(existsSync(outDir)).toBe(false);
  });

  it('serves the built page, its script, worklet and styles', async () => {
    await buildClient({ outDir });
    const [page, again] = await Promise.all([fetch(`${base}/`), fetch(`${base}/index.html`)]);
    expect(page.status).toBe(200);
    expect(again.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('data-testid="connect"');
    expect(html).not.toMatch(/https?:\/\//); // no CDN, no external fonts
    for (const [path, type] of [
      ['/app.js', 'text/javascript'],
      ['/pcm_capture_worklet.js', 'text/javascript'],
      ['/app.css', 'text/css'],
    ]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect((await res.text()).length).toBeGreaterThan(100);
    }
    const js = await (await fetch(`${base}/app.js`)).text();
    expect(js).not.toMatch(/from\s*["']https?:/);
    expect(existsSync(join(outDir, 'index.html'))).toBe(true);
  });

  it('serves nothing outside the build and only GET/HEAD', async () => {
    for (const path of [
      '/package.json',
      '/../package.json',
      '/%2e%2e/package.json',
      '/client/web/main.ts',
      '/index.htm',
    ]) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${base}/`, { method: 'POST', body: 'x' })).status).toBe(404);
    const head = await fetch(`${base}/app.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});
