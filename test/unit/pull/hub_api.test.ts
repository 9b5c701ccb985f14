import { describe, expect, it } from 'vitest';
import { hubEnv, parseNextLink, resolveUrl, treeUrl, folderWebUrl } from '../../../src/engine/phi4mm/pull/hub_api.ts';
import { contentRangeStart } from '../../../src/engine/phi4mm/pull/download_file.ts';
import {
  ConnectTimeoutError,
  describeNetworkError,
  errorCode,
  isLocalFsError,
  isUnreachableError,
} from '../../../src/engine/phi4mm/pull/net.ts';
import { backoffDelayMs } from '../../../src/engine/phi4mm/pull/retry.ts';
import { genaiConfigFiles, selectEngineFiles } from '../../../src/engine/phi4mm/pull/engine_files.ts';
import { chooseVariantFolder, variantFoldersOf } from '../../../src/engine/phi4mm/pull/variants.ts';

const REPO = 'microsoft/Phi-4-multimodal-instruct-onnx';

describe('hub urls', () => {
  it('builds the tree and resolve urls of the hub API', () => {
    expect(treeUrl('https://huggingface.co/', REPO, 'main', 'gpu/gpu-int4-rtn-block-32', true)).toBe(
      `https://huggingface.co/api/models/${REPO}/tree/main/gpu/gpu-int4-rtn-block-32?recursive=true`,
    );
    expect(resolveUrl('https://huggingface.co', REPO, 'main', 'gpu/x/phi-4-mm-text.onnx.data')).toBe(
      `https://huggingface.co/${REPO}/resolve/main/gpu/x/phi-4-mm-text.onnx.data`,
    );
    expect(folderWebUrl('http://mirror', REPO, 'main', 'cpu')).toBe(`http://mirror/${REPO}/tree/main/cpu`);
  });

  it('encodes revisions and path segments but keeps the slashes between segments', () => {
    expect(resolveUrl('http://h', REPO, 'refs/pr/1', 'a b/c#d')).toBe(
      `http://h/${REPO}/resolve/refs%2Fpr%2F1/a%20b/c%23d`,
    );
  });

  it('reads HF_ENDPOINT and HF_TOKEN, ignoring blank values', () => {
    expect(hubEnv({ HF_ENDPOINT: 'http://m', HF_TOKEN: 'hf_x' })).toEqual({ endpoint: 'http://m', token: 'hf_x' });
    expect(hubEnv({ HF_ENDPOINT: ' ', HF_TOKEN: '' })).toEqual({ endpoint: undefined, token: undefined });
  });

  it('follows Link rel="next", absolute or relative', () => {
    const current = 'https://huggingface.co/api/models/a/b/tree/main?recursive=true';
    expect(parseNextLink('<https://huggingface.co/api/models/a/b/tree/main?cursor=xyz>; rel="next"', current)).toBe(
      'https://huggingface.co/api/models/a/b/tree/main?cursor=xyz',
    );
    expect(parseNextLink('</api/x?cursor=2>; rel="prev", </api/x?cursor=3>; rel="next"', current)).toBe(
      'https://huggingface.co/api/x?cursor=3',
    );
    expect(parseNextLink('</api/x?cursor=2>; rel="prev"', current)).toBeUndefined();
    expect(parseNextLink(null, current)).toBeUndefined();
  });

  it('parses the start of a Content-Range', () => {
    expect(contentRangeStart('bytes 1000-1999/2000')).toBe(1000);
    expect(contentRangeStart('bytes */2000')).toBeUndefined();
    expect(contentRangeStart(null)).toBeUndefined();
  });
});

describe('variant folder choice (folders holding a genai_config.json)', () => {
  const CPU4 = 'cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4';
  const GPU = 'gpu/gpu-int4-rtn-block-32';

  it('finds the folders that hold a genai_config.json, the root included', () => {
    expect(
      variantFoldersOf([
        `${CPU4}/genai_config.json`,
        `${CPU4}/tokenizer.json`,
        'genai_config.json',
        'onnx/builder.py',
        `${GPU}/genai_config.json`,
      ]),
    ).toEqual(['', CPU4, GPU]);
  });

  it('cpu: accuracy level 4 wins, wherever the folder sits', () => {
    expect(chooseVariantFolder('cpu', [CPU4, 'cpu_and_mobile/cpu-int4-rtn-block-32', GPU])).toEqual({
      ok: true,
      folder: CPU4,
    });
    expect(chooseVariantFolder('cpu', ['cpu/cpu-int4-rtn-block-32-acc-level-4', 'cpu/cpu-fp32'])).toEqual({
      ok: true,
      folder: 'cpu/cpu-int4-rtn-block-32-acc-level-4',
    });
    expect(chooseVariantFolder('cpu', ['cpu/cpu-fp32', 'cpu/cpu-int4-rtn-block-32', GPU])).toEqual({
      ok: true,
      folder: 'cpu/cpu-int4-rtn-block-32',
    });
    // Two level-4 folders: the expected name settles it.
    expect(chooseVariantFolder('cpu', ['cpu/cpu-int4-awq-acc-level-4', CPU4])).toEqual({ ok: true, folder: CPU4 });
  });

  it('gpu: the folder named gpu-int4-rtn-block-32', () => {
    expect(chooseVariantFolder('gpu', [CPU4, GPU, 'gpu/gpu-fp16'])).toEqual({ ok: true, folder: GPU });
    expect(chooseVariantFolder('gpu', [CPU4, 'cuda/gpu-int4-rtn-block-32'])).toEqual({
      ok: true,
      folder: 'cuda/gpu-int4-rtn-block-32',
    });
  });

  it('refuses ambiguous or absent folders, naming the folders found', () => {
    const several = chooseVariantFolder('cpu', ['a/cpu-int4-x', 'b/cpu-INT4-y']);
    expect(several.ok).toBe(false);
    if (!several.ok) expect(several.reason).toContain('a/cpu-int4-x, b/cpu-INT4-y');
    const none = chooseVariantFolder('cpu', ['cpu/cpu-fp32', GPU]);
    expect(none).toEqual({ ok: false, reason: expect.stringContaining(`cpu/cpu-fp32, ${GPU}`) as string });
    const noGpu = chooseVariantFolder('gpu', [CPU4]);
    expect(noGpu).toEqual({ ok: false, reason: expect.stringContaining(CPU4) as string });
    expect(chooseVariantFolder('cpu', [])).toEqual({ ok: false, reason: expect.stringContaining('(none)') as string });
  });
});

describe('engine file selection', () => {
  const CONFIG = JSON.stringify({
    model: {
      type: 'phi4mm',
      decoder: { filename: 'phi-4-mm-text.onnx' },
      speech: {
        filename: 'phi-4-mm-speech.onnx',
        config_filename: 'speech_processor.json',
        adapter_filename: 'phi-4-mm-speech.onnx_adapter',
      },
      vision: {
        filename: 'phi-4-mm-vision.onnx',
        config_filename: 'vision_processor.json',
        adapter_filename: 'phi-4-mm-vision.onnx_adapter',
      },
    },
  });
  const LISTED = [
    'genai_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
    'added_tokens.json',
    'phi-4-mm-text.onnx',
    'phi-4-mm-text.onnx.data',
    'phi-4-mm-embedding.onnx',
    'phi-4-mm-embedding.onnx.data',
    'phi-4-mm-speech.onnx',
    'phi-4-mm-speech.onnx.data',
    'phi-4-mm-speech.onnx_adapter',
    'speech_processor.json',
    'phi-4-mm-vision.onnx',
    'phi-4-mm-vision.onnx.data',
    'phi-4-mm-vision.onnx_adapter',
    'vision_processor.json',
  ];
  const names = () => {
    const parsed = genaiConfigFiles(CONFIG);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.names;
  };

  it('never takes a rewritten-graph cache entry for external data', () => {
    const cached = [
      'phi-4-mm-text.onnx.earshot-95623148226d0220.onnx',
      'phi-4-mm-text.onnx.earshot-95623148226d0220.json',
    ];
    const s = selectEngineFiles(names(), [...LISTED, ...cached], true);
    expect(s.selected).toContain('phi-4-mm-text.onnx.data');
    expect(s.selected.filter((p) => p.includes('.earshot-'))).toEqual([]);
    expect(s.leftOut.sort()).toEqual(['added_tokens.json', ...cached, 'special_tokens_map.json'].sort());
  });

  it('keeps what the engine loads and leaves vision and unused files on the hub', () => {
    const s = selectEngineFiles(names(), LISTED, false);
    expect(s.missing).toEqual([]);
    expect(s.leftOut.sort()).toEqual([
      'added_tokens.json',
      'phi-4-mm-vision.onnx',
      'phi-4-mm-vision.onnx.data',
      'phi-4-mm-vision.onnx_adapter',
      'special_tokens_map.json',
      'vision_processor.json',
    ]);
    expect(s.selected).toContain('phi-4-mm-speech.onnx_adapter');
    expect(s.selected).toContain('phi-4-mm-text.onnx.data');
  });

  it('takes the vision files with --with-vision', () => {
    const s = selectEngineFiles(names(), LISTED, true);
    expect(s.leftOut.sort()).toEqual(['added_tokens.json', 'special_tokens_map.json']);
  });

  it('reports the files the config names that the folder lacks', () => {
    const s = selectEngineFiles(
      names(),
      LISTED.filter((p) => p !== 'phi-4-mm-speech.onnx_adapter' && p !== 'tokenizer.json'),
      false,
    );
    expect(s.missing).toEqual(['tokenizer.json', 'phi-4-mm-speech.onnx_adapter']);
  });

  it('refuses a config that is not JSON or has no model section', () => {
    expect(genaiConfigFiles('{').ok).toBe(false);
    expect(genaiConfigFiles('{"x":1}').ok).toBe(false);
  });
});

describe('error classification', () => {
  const fetchFailed = (code: string): TypeError =>
    new TypeError('fetch failed', { cause: Object.assign(new Error(`getaddrinfo ${code} x`), { code }) });

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
    expect(
      describeNetworkError(
        new TypeError('fetch failed', { cause: Object.assign(new Error('boom'), { code: 'ECONNRESET' }) }),
      ),
    ).toBe('ECONNRESET: boom');
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
