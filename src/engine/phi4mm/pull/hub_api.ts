import { z } from 'zod';
import { EarshotError } from '../../../errors.ts';
import { fetchWithConnectTimeout, type FetchImpl } from './net.ts';

// The two Hugging Face hub endpoints `earshot model pull` needs (same shapes as huggingface.js `listFiles`
// and `downloadFile`):
//   GET {endpoint}/api/models/{repo}/tree/{revision}/{folder}?recursive=true  -> JSON array of entries,
//       paginated with a `Link: <next-url>; rel="next"` header
//   GET {endpoint}/{repo}/resolve/{revision}/{path}                           -> the file (often a 302 to a CDN)

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

/** Bound on followed `Link: rel="next"` pages, so a misbehaving mirror cannot loop us forever. */
export const MAX_TREE_PAGES = 100;

export interface HubSettings {
  endpoint: string;
  token?: string;
  fetchImpl: FetchImpl;
  connectTimeoutMs: number;
}

/** Endpoint and token from the same variables the huggingface_hub tools read. */
export function hubEnv(env: Record<string, string | undefined>): { endpoint?: string; token?: string } {
  const endpoint = env.HF_ENDPOINT?.trim();
  const token = env.HF_TOKEN?.trim();
  return { endpoint: endpoint === '' ? undefined : endpoint, token: token === '' ? undefined : token };
}

export function normalizeEndpoint(endpoint: string): string {
  return endpoint.replace(/\/+$/, '');
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function treeUrl(endpoint: string, repo: string, revision: string, folder: string, recursive: boolean): string {
  const folderPart = folder === '' ? '' : `/${encodePath(folder)}`;
  return `${normalizeEndpoint(endpoint)}/api/models/${repo}/tree/${encodeURIComponent(revision)}${folderPart}?recursive=${recursive}`;
}

export function resolveUrl(endpoint: string, repo: string, revision: string, path: string): string {
  return `${normalizeEndpoint(endpoint)}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`;
}

/** Human-facing page of a folder, for messages telling a user where to download by hand. */
export function folderWebUrl(endpoint: string, repo: string, revision: string, folder: string): string {
  return `${normalizeEndpoint(endpoint)}/${repo}/tree/${encodeURIComponent(revision)}/${encodePath(folder)}`;
}

export function authHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

// Only the fields we use; others (lastCommit, xetHash, security...) are ignored, not rejected.
const treeEntrySchema = z.object({
  type: z.string(),
  path: z.string().min(1),
  size: z.number().int().nonnegative().optional(),
  oid: z.string().optional(),
  lfs: z.object({ oid: z.string(), size: z.number().int().nonnegative() }).optional(),
});
const treePageSchema = z.array(treeEntrySchema);

export interface HubFile {
  /** Path inside the repository, e.g. `gpu/gpu-int4-rtn-block-32/genai_config.json`. */
  path: string;
  sizeBytes: number;
  /** Lowercase hex sha256 of the content, when the hub gives one (LFS / xet files). */
  sha256?: string;
}

export interface HubTree {
  files: HubFile[];
  /** Repository paths of the folders seen. */
  directories: string[];
}

/** `Link: <url>; rel="next"` -> absolute next url (relative urls are resolved against the current page). */
export function parseNextLink(header: string | null, currentUrl: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (match !== null) return new URL(match[1], currentUrl).toString();
  }
  return undefined;
}

function httpFailure(status: number, url: string, hubErrorCode: string | null): EarshotError {
  const hint =
    status === 401 || status === 403
      ? ' The hub refused access: set HF_TOKEN to a token that can read the repository.'
      : status === 404
        ? ' The repository, revision or folder does not exist on this endpoint (check --revision and HF_ENDPOINT).'
        : '';
  const code = hubErrorCode === null ? '' : ` (${hubErrorCode})`;
  return new EarshotError('E_MODEL_PULL', `The hub answered HTTP ${status}${code} for ${url}.${hint}`, {
    retryable: status >= 500 || status === 429,
  });
}

/**
 * Lists a folder of the repository. Network failures are thrown as they come (the caller turns them into
 * the "place the files by hand" message); HTTP and format failures become E_MODEL_PULL.
 */
export async function listTree(
  hub: HubSettings,
  query: { repo: string; revision: string; folder: string; recursive: boolean; signal?: AbortSignal },
): Promise<HubTree> {
  const files: HubFile[] = [];
  const directories: string[] = [];
  let url: string | undefined = treeUrl(hub.endpoint, query.repo, query.revision, query.folder, query.recursive);
  for (let page = 0; url !== undefined; page += 1) {
    if (page >= MAX_TREE_PAGES) {
      throw new EarshotError(
        'E_MODEL_PULL',
        `The hub listing of ${query.folder} has more than ${MAX_TREE_PAGES} pages.`,
      );
    }
    const { response } = await fetchWithConnectTimeout(hub.fetchImpl, url, {
      headers: { accept: 'application/json', ...authHeaders(hub.token) },
      signal: query.signal,
      connectTimeoutMs: hub.connectTimeoutMs,
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw httpFailure(response.status, url, response.headers.get('x-error-code'));
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (err) {
      throw new EarshotError('E_MODEL_PULL', `The hub listing at ${url} is not valid JSON.`, { cause: err });
    }
    const parsed = treePageSchema.safeParse(body);
    if (!parsed.success) {
      throw new EarshotError(
        'E_MODEL_PULL',
        `The hub listing at ${url} has an unexpected shape: ${parsed.error.message}`,
      );
    }
    for (const entry of parsed.data) {
      if (entry.type === 'directory') {
        directories.push(entry.path);
      } else if (entry.type === 'file') {
        const sizeBytes = entry.lfs?.size ?? entry.size;
        if (sizeBytes === undefined) {
          throw new EarshotError('E_MODEL_PULL', `The hub listing gives no size for ${entry.path}.`);
        }
        const sha256 =
          entry.lfs !== undefined && /^[0-9a-f]{64}$/i.test(entry.lfs.oid) ? entry.lfs.oid.toLowerCase() : undefined;
        files.push({ path: entry.path, sizeBytes, sha256 });
      }
    }
    url = parseNextLink(response.headers.get('link'), url);
  }
  return { files, directories };
}

/**
 * Reads one small file of the repository into memory (the variant's genai_config.json while planning).
 * Bodies over `maxBytes` are refused; HTTP failures become E_MODEL_PULL, network failures are thrown as
 * they come, as in listTree.
 */
export async function fetchSmallFile(
  hub: HubSettings,
  query: { repo: string; revision: string; path: string; maxBytes: number; signal?: AbortSignal },
): Promise<string> {
  const url = resolveUrl(hub.endpoint, query.repo, query.revision, query.path);
  const { response } = await fetchWithConnectTimeout(hub.fetchImpl, url, {
    headers: authHeaders(hub.token),
    signal: query.signal,
    connectTimeoutMs: hub.connectTimeoutMs,
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw httpFailure(response.status, url, response.headers.get('x-error-code'));
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > query.maxBytes) {
    await response.body?.cancel();
    throw new EarshotError(
      'E_MODEL_PULL',
      `${query.path} on the hub is ${declared} bytes, more than the ${query.maxBytes} expected of it.`,
    );
  }
  // Read chunk by chunk so a body without content-length still stops at the bound.
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const next = reader === undefined ? { done: true as const, value: undefined } : await reader.read();
    if (next.done) break;
    bytes += next.value.length;
    if (bytes > query.maxBytes) {
      await reader?.cancel();
      throw new EarshotError(
        'E_MODEL_PULL',
        `${query.path} on the hub is more than the ${query.maxBytes} bytes expected of it.`,
      );
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
