// Serves the browser client at `/` from its build folder (build/client/, written by `npm run build`,
// which `npm start` and `npm test` run first when the sources changed). The server never builds: it only
// reads files, and answers a clear page naming the fix when the folder is missing.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../observability/logger.ts';
import type { HttpRoute } from './ws_server.ts';

/** The folder `npm run build` writes the client into (gitignored, outside the sources). */
export const DEFAULT_CLIENT_BUILD_DIR = fileURLToPath(new URL('../../build/client', import.meta.url));

export interface StaticRouteOptions {
  /** Where the built client lives (default DEFAULT_CLIENT_BUILD_DIR). */
  outDir?: string;
  log?: Logger;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

// The page talks only to its own origin (WebSocket, WebRTC signalling, GET /v1/agents) and loads nothing
// from elsewhere: no CDN, no external fonts.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; media-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Files the client build produces; anything else is not served (no path is ever joined from the URL). */
const SERVED =
  /^\/(?:index\.html|app\.js|app\.css|pcm_capture_worklet\.js|app\.js\.map|app\.css\.map|pcm_capture_worklet\.js\.map)$/;

export function createStaticRoute(options: StaticRouteOptions = {}): HttpRoute {
  const outDir = options.outDir ?? DEFAULT_CLIENT_BUILD_DIR;
  let warned = false;
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    if (!SERVED.test(path)) return false;
    if (!existsSync(join(outDir, 'index.html'))) {
      if (!warned) options.log?.warn({ outDir }, 'browser client not built: run `npm run build`');
      warned = true;
      sendNotBuilt(req, res, outDir);
      return true;
    }
    let body: Buffer;
    try {
      body = await readFile(join(outDir, path.slice(1)));
    } catch {
      return false; // e.g. a source map the build did not emit
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
      'content-length': body.length,
      ...SECURITY_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

/** 503 with a page that says what to run (E_CLIENT_BUILD), instead of a bare 404 for a server that works. */
function sendNotBuilt(req: IncomingMessage, res: ServerResponse, outDir: string): void {
  const page = [
    '<!doctype html><meta charset="utf-8"><title>Earshot: browser client not built</title>',
    '<h1>The browser client is not built</h1>',
    `<p>The server serves the page from <code>${escapeHtml(outDir)}</code>, which has no build (error E_CLIENT_BUILD).`,
    'Run <code>npm run build</code> (or start the server with <code>npm start</code>, which builds it first) and reload.</p>',
    '<p>The Realtime API, WebRTC calls and the HTTP API work without it.</p>',
  ].join('\n');
  const body = Buffer.from(page);
  res.writeHead(503, { 'content-type': CONTENT_TYPES['.html']!, 'content-length': body.length, ...SECURITY_HEADERS });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
