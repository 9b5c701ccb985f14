import { describe, expect, it } from 'vitest';
import { hubEnv, parseNextLink, resolveUrl, treeUrl, folderWebUrl } from '../../../src/engine/phi4mm/pull/hub_api.ts';
import { contentRangeStart } from '../../../src/engine/phi4mm/pull/download_file.ts';
import { ConnectTimeoutError, describeNetworkError, errorCode, isLocalFsError, isUnreachableError } from '../../../src/engine/phi4mm/pull/net.ts';
import { backoffDelayMs } from '../../../src/engine/phi4mm/pull/retry.ts';
import { chooseCpuFolder } from '../../../src/engine/phi4mm/pull/variants.ts';

const REPO = 'microsoft/Phi-4-multimodal-instruct-onnx';

describe('hub urls', () => {
  it('builds the tree and resolve urls of the hub API', () => {
    expect(treeUrl('https://huggingface.co/', REPO, 'main', 'gpu/gpu-int4-rtn-block-32', true))
      .toBe(`https://huggingface.co/api/models/${REPO}/tree/main/gpu/gpu-int4-rtn-block-32?recursive=true`);
    expect(resolveUrl('https://huggingface.co', REPO, 'main', 'gpu/x/phi-4-mm-text.onnx.data'))
      .toBe(`https://huggingface.co/${REPO}/resolve/main/gpu/x/phi-4-mm-text.onnx.data`);
    expect(folderWebUrl('http://mirror', REPO, 'main', 'cpu')).toBe(`http://mirror/${REPO}/tree/main/cpu`);
  });

  it('encodes revisions and path segments but keeps the slashes between segments', () => {
    expect(resolveUrl('http://h', REPO, 'refs/pr/1', 'a b/c#d')).toBe(`http://h/${REPO}/resolve/refs%2Fpr%2F1/a%20b/c%23d`);
  });

  it('reads HF_ENDPOINT and HF_TOKEN, ignoring blank values', () => {
    expect(hubEnv({ HF_ENDPOINT: 'http://m', HF_TOKEN: 'hf_x' })).toEqual({ endpoint: 'http://m', token: 'hf_x' });
    expect(hubEnv({ HF_ENDPOINT: ' ', HF_TOKEN: '' })).toEqual({ endpoint: undefined, token: undefined });
  });

  it('follows Link rel="next", absolute or relative', () => {
    const current = 'https://huggingface.co/api/models/a/b/tree/main?recursive=true';
    expect(parseNextLink('<https://huggingface.co/api/models/a/b/tree/main?cursor=xyz>; rel="next"', current))
      .toBe('https://huggingface.co/api/models/a/b/tree/main?cursor=xyz');
    expect(parseNextLink('</api/x?cursor=2>; rel="prev", </api/x?cursor=3>; rel="next"', current))
      .toBe('https://huggingface.co/api/x?cursor=3');
    expect(parseNextLink('</api/x?cursor=2>; rel="prev"', current)).toBeUndefined();
    expect(parseNextLink(null, current)).toBeUndefined();
  });

  it('parses the start of a Content-Range', () => {
    expect(contentRangeStart('bytes 1000-1999/2000')).toBe(1000);
    expect(contentRangeStart('bytes */2000')).toBeUndefined();
    expect(contentRangeStart(null)).toBeUndefined();
  });
});

describe('CPU folder choice', () => {
  it('prefers the expected name, else the only int4 folder', () => {
    expect(chooseCpuFolder(['cpu/cpu-fp32', 'cpu/cpu-int4-rtn-block-32-acc-level-4', 'cpu/cpu-int4-other']))
      .toEqual({ ok: true, folder: 'cpu/cpu-int4-rtn-block-32-acc-level-4' });
    expect(chooseCpuFolder(['cpu/cpu-fp32', 'cpu/cpu-int4-rtn-block-32'])).toEqual({ ok: true, folder: 'cpu/cpu-int4-rtn-block-32' });
  });

  it('lists what exists when ambiguous or absent', () => {
    const several = chooseCpuFolder(['cpu/a-int4', 'cpu/b-INT4']);
    expect(several.ok).toBe(false);
    if (!several.ok) expect(several.reason).toContain('cpu/a-int4, cpu/b-INT4');
    const none = chooseCpuFolder(['cpu/cpu-fp32']);
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.reason).toContain('cpu/cpu-fp32');
    const empty = chooseCpuFolder([]);
    if (!empty.ok) expect(empty.reason).toContain('(none)');
  });
});

describe('error classification', () => {
  const fetchFailed = (code: string): TypeError => new TypeError('fetch failed', { cause: Object.assign(new Error(`getaddrinfo ${code} x`), { code }) });

  it('treats DNS failure, refusal and connect timeouts as unreachable', () => {
    expect(isUnreachableError(fetchFailed('ENOTFOUND'))).toBe(true);
    expect(isUnreachableError(fetchFailed('ECONNREFUSED'))).toBe(true);
    expect(isUnreachableError(new ConnectTimeoutError('http://h/x', 10))).toBe(true);
    expect(isUnreachableError(fetchFailed('ECONNRESET'))).toBe(false);
    expect(isUnreachableError(new Error('other'))).toBe(false);
  });

  it('finds codes in the cause chain and describes them once', () => {
    expect(errorCode(fetchFailed('EAI_AGAIN'))).toBe('EAI_AGAIN');
    expect(describeNetworkError(fetchFailed('ENOTFOUND'))).toBe('getaddrinfo ENOTFOUND x');
    expect(describeNetworkError(new TypeError('fetch failed', { cause: Object.assign(new Error('boom'), { code: 'ECONNRESET' }) })))
      .toBe('ECONNRESET: boom');
  });

  it('recognises local disk errors (never retried)', () => {
    expect(isLocalFsError(Object.assign(new Error('no space'), { code: 'ENOSPC' }))).toBe(true);
    expect(isLocalFsError(fetchFailed('ECONNRESET'))).toBe(false);
  });
});

describe('backoff', () => {
  it('doubles from the initial delay up to the cap', () => {
    const policy = { maxRetries: 5, initialDelayMs: 1000, maxDelayMs: 5000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, policy))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});
