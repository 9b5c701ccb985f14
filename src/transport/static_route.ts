// Serves the browser client (built by client/build_client.ts into .cache/client/) at `/`. Builds it on
// the first request when the output is missing or older than its sources, so `npm ci && npm start`
// serves the page without a separate build step; concurrent first requests share one build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { CLIENT_SOURCE_DIRS, DEFAULT_CLIENT_OUT_DIR, buildClient } from '../../client/build_client.ts';
import { isEarshotError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { sendJson, type HttpRoute } from './ws_server.ts';

export interface StaticRouteOptions {
  /** Where the built client lives (default .cache/client in the repository). */
  outDir?: string;
  /** Rebuild when a client source is newer than the build (default true; off for a read-only install). */
  rebuildWhenStale?: boolean;
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
const SERVED = /^\/(?:index\.html|app\.js|app\.css|pcm_capture_worklet\.js|app\.js\.map|app\.css\.map|pcm_capture_worklet\.js\.map)$/;

export function createStaticRoute(options: StaticRouteOptions = {}): HttpRoute {
  const outDir = options.outDir ?? DEFAULT_CLIENT_OUT_DIR;
  const rebuildWhenStale = options.rebuildWhenStale ?? true;
  let ready: Promise<void> | null = null;

  const ensureBuilt = (): Promise<void> => {
    ready ??= (async () => {
      if (existsSync(join(outDir, 'index.html')) && !(rebuildWhenStale && isStale(outDir))) return;
      const started = performance.now();
      await buildClient({ outDir });
      options.log?.info({ outDir, ms: Math.round(performance.now() - started) }, 'browser client built');
    })().catch((err: unknown) => {
      ready = null; // let a later request retry (e.g. after the sources are fixed)
      throw err;
    });
    return ready;
  };

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    if (!SERVED.test(path)) return false;
    try {
      await ensureBuilt();
    } catch (err) {
      options.log?.error({ err }, 'browser client build failed');
      sendJson(res, 500, { error: { code: isEarshotError(err) ? err.code : 'E_CLIENT_BUILD', message: 'The browser client could not be built; see the server log.' } });
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

/** True when any client source file is newer than the built index.html. A few dozen stat calls. */
function isStale(outDir: string): boolean {
  const builtAtMs = statSync(join(outDir, 'index.html')).mtimeMs;
  const newest = (dir: string): number => {
    let latest = 0;
    if (!existsSync(dir)) return latest;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
    }
    return latest;
  };
  return CLIENT_SOURCE_DIRS.some((dir) => newest(dir) > builtAtMs);
}
