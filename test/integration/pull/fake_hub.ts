import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

// A local stand-in for the Hugging Face hub: the tree API (with Link pagination) and `resolve` (optionally
// via a 302 to a "CDN" path, as the real hub does for LFS files), with Range support and scripted faults.

export interface FakeHubFile {
  content: Buffer;
  /** Listed with `lfs: {oid: sha256, size}` like LFS / xet files; otherwise only a git oid. */
  lfs?: boolean;
  /** Bytes actually served instead of `content` (corruption). */
  served?: Buffer;
  /** Close the connection after this many body bytes, for the first `cutTimes` requests. */
  cutAfterBytes?: number;
  cutTimes?: number;
  /** Send this many body bytes then go silent (never end) for the first request. */
  stallAfterBytes?: number;
  /** Answer Range requests with a 200 and the whole file. */
  ignoreRange?: boolean;
  /** Send `holdAfterBytes` body bytes, then the rest only once `hold` resolves (first request only). */
  hold?: Promise<void>;
  holdAfterBytes?: number;
}

export interface FakeHubOptions {
  repo: string;
  revision?: string;
  /** Keyed by repository path, e.g. `gpu/gpu-int4-rtn-block-32/genai_config.json`. */
  files: Record<string, FakeHubFile>;
  /** Entries per tree page; the rest follows a `Link: rel="next"` header. */
  pageSize?: number;
  redirectToCdn?: boolean;
  /** Answer the first this-many tree requests with HTTP 503. */
  treeFailures?: number;
}

export interface RecordedRequest {
  url: string;
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  endpoint: string;
  requests: RecordedRequest[];
  /** Resolve requests (the CDN leg when redirecting) for one repository path. */
  downloadsOf(path: string): RecordedRequest[];
  close(): Promise<void>;
}

function gitBlobOid(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function treeEntries(files: Record<string, FakeHubFile>, folder: string, recursive: boolean): object[] {
  const prefix = folder === '' ? '' : `${folder}/`;
  const dirs = new Set<string>();
  const entries: object[] = [];
  for (const [path, file] of Object.entries(files)) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length).split('/');
    for (let depth = 1; depth < rest.length; depth += 1) {
      if (!recursive && depth > 1) break;
      dirs.add(prefix + rest.slice(0, depth).join('/'));
    }
    if (!recursive && rest.length > 1) continue;
    entries.push({
      type: 'file',
      path,
      size: file.content.length,
      oid: gitBlobOid(file.content),
      ...(file.lfs === true
        ? {
            lfs: {
              oid: createHash('sha256').update(file.content).digest('hex'),
              size: file.content.length,
              pointerSize: 134,
            },
          }
        : {}),
    });
  }
  return [...[...dirs].sort().map((path) => ({ type: 'directory', path, size: 0, oid: '0'.repeat(40) })), ...entries];
}

/**
 * A rewritten-graph cache entry the engine writes beside a model it loads (`x.onnx.earshot-<key>.onnx` and
 * `.json`, src/engine/phi4mm/graph_cache.ts): found in a shared fixture folder, never part of an export.
 */
export function isGraphCacheEntry(name: string): boolean {
  return /\.onnx\.earshot-[0-9a-f]+\.(onnx|json)$/.test(name);
}

export async function startFakeHub(opts: FakeHubOptions): Promise<FakeHub> {
  const revision = opts.revision ?? 'main';
  const requests: RecordedRequest[] = [];
  const cutsDone = new Map<string, number>();
  const stalled = new Set<string>();
  const held = new Set<string>();
  const sockets = new Set<Socket>();
  let treeFailuresLeft = opts.treeFailures ?? 0;

  const serveFile = (path: string, req: IncomingMessage, res: ServerResponse): void => {
    const file = opts.files[path];
    if (file === undefined) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('not found');
      return;
    }
    const body = file.served ?? file.content;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (range !== null && file.ignoreRange !== true) {
      start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'accept-ranges': 'bytes',
      });
    } else {
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    }
    const slice = body.subarray(start);
    const cuts = cutsDone.get(path) ?? 0;
    if (file.cutAfterBytes !== undefined && cuts < (file.cutTimes ?? 1)) {
      cutsDone.set(path, cuts + 1);
      res.flushHeaders();
      // A FIN, not a reset: the client receives every byte sent before the cut (a reset may discard bytes
      // still in its receive buffer on a loaded machine, which made the resume offsets vary).
      res.write(slice.subarray(0, file.cutAfterBytes), () => req.socket.end());
      return;
    }
    if (file.hold !== undefined && !held.has(path)) {
      held.add(path);
      const first = Math.min(file.holdAfterBytes ?? 0, slice.length);
      res.write(slice.subarray(0, first));
      void file.hold.then(() => res.end(slice.subarray(first)));
      return;
    }
    if (file.stallAfterBytes !== undefined && !stalled.has(path)) {
      stalled.add(path);
      res.write(slice.subarray(0, file.stallAfterBytes));
      return; // never ends: the client's stall timer must fire
    }
    res.end(slice);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake-hub');
    requests.push({ url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization });
    const treePrefix = `/api/models/${opts.repo}/tree/${revision}`;
    const resolvePrefix = `/${opts.repo}/resolve/${revision}/`;
    if (url.pathname === treePrefix || url.pathname.startsWith(`${treePrefix}/`)) {
      if (treeFailuresLeft > 0) {
        treeFailuresLeft -= 1;
        res.writeHead(503).end('busy');
        return;
      }
      const folder = decodeURIComponent(url.pathname.slice(treePrefix.length + 1));
      const all = treeEntries(opts.files, folder, url.searchParams.get('recursive') === 'true');
      if (all.length === 0) {
        res
          .writeHead(404, { 'content-type': 'application/json', 'x-error-code': 'EntryNotFound' })
          .end('{"error":"not found"}');
        return;
      }
      const pageSize = opts.pageSize ?? all.length;
      const cursor = Number(url.searchParams.get('cursor') ?? '0');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor + pageSize < all.length) {
        const next = new URL(url.toString());
        next.searchParams.set('cursor', String(cursor + pageSize));
        headers.link = `<${next.pathname}${next.search}>; rel="next"`;
      }
      res.writeHead(200, headers).end(JSON.stringify(all.slice(cursor, cursor + pageSize)));
    } else if (url.pathname.startsWith(resolvePrefix)) {
      const path = decodeURIComponent(url.pathname.slice(resolvePrefix.length));
      if (opts.redirectToCdn === true && opts.files[path]?.lfs === true) {
        res.writeHead(302, { location: `/cdn/${encodeURIComponent(path)}` }).end();
      } else {
        serveFile(path, req, res);
      }
    } else if (url.pathname.startsWith('/cdn/')) {
      serveFile(decodeURIComponent(url.pathname.slice('/cdn/'.length)), req, res);
    } else {
      res.writeHead(404).end();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    downloadsOf: (path) =>
      requests
        .filter((r) => r.url.includes('/resolve/') || r.url.startsWith('/cdn/'))
        .filter((r) => decodeURIComponent(r.url).endsWith(`/${path}`)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 with nothing listening: connections are refused at once. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Accepts TCP connections and never answers: models a host that swallows packets. */
export async function startSilentServer(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
