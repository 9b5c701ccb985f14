// Real Opus packets for WebRTC tests. No Opus encoder is installed from npm, so speech is encoded once by
// Debian's Chromium (WebCodecs AudioEncoder, the libopus a browser sends with: 20 ms frames) and cached
// under os.tmpdir()/earshot-fixtures keyed by the audio's hash; later runs read the cache.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { fixturePath, writeFileAtomic } from './speech_wav_io.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const OPUS_FRAME_MS = 20;
/** RTP ticks (48 kHz clock) per 20 ms packet. */
export const OPUS_FRAME_TICKS = 960;

export interface OpusEncodeOptions {
  bitrateBps?: number;
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** The 16 kHz samples as 20 ms Opus packets (Chromium's libopus), cached on disk. */
export async function encodeOpusPackets(
  samples16k: Float32Array,
  options: OpusEncodeOptions = {},
): Promise<Uint8Array[]> {
  const bitrateBps = options.bitrateBps ?? 32_000;
  const pcm16 = Buffer.alloc(samples16k.length * 2);
  for (let i = 0; i < samples16k.length; i++)
    pcm16.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples16k[i] * 32767))), i * 2);
  const audioHash = createHash('sha256').update(pcm16).digest('hex');
  const path = fixturePath('opus', { audioHash, bitrateBps, frameMs: OPUS_FRAME_MS }, 'json');
  if (!existsSync(path)) {
    const packets = await encodeWithChromium(pcm16.toString('base64'), bitrateBps);
    writeFileAtomic(path, JSON.stringify(packets));
  }
  return (JSON.parse(readFileSync(path, 'utf8')) as string[]).map((b64) => new Uint8Array(Buffer.from(b64, 'base64')));
}

// Plain JavaScript run in the page (a string, so the test transpiler adds no helpers to it).
const ENCODER_SCRIPT = `
window.encodeOpus = async (pcmBase64, bitrate) => {
  const bytes = Uint8Array.from(atob(pcmBase64), (c) => c.charCodeAt(0));
  const pcm = new Int16Array(bytes.buffer);
  const data = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 32768;
  const packets = [];
  let failure = null;
  const encoder = new AudioEncoder({
    output(chunk) {
      const out = new Uint8Array(chunk.byteLength);
      chunk.copyTo(out);
      let s = '';
      for (let i = 0; i < out.length; i++) s += String.fromCharCode(out[i]);
      packets.push(btoa(s));
    },
    error(e) { failure = String(e); },
  });
  encoder.configure({ codec: 'opus', sampleRate: 16000, numberOfChannels: 1, bitrate, opus: { frameDuration: 20000, complexity: 10 } });
  encoder.encode(new AudioData({ format: 'f32', sampleRate: 16000, numberOfChannels: 1, numberOfFrames: data.length, timestamp: 0, data }));
  await encoder.flush();
  encoder.close();
  if (failure) throw new Error(failure);
  return packets;
};
`;

async function encodeWithChromium(pcmBase64: string, bitrateBps: number): Promise<string[]> {
  // WebCodecs needs a secure context: http://127.0.0.1 is one, about:blank is not.
  const http = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>opus</title>');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    await page.addScriptTag({ content: ENCODER_SCRIPT });
    return (await page.evaluate(`window.encodeOpus(${JSON.stringify(pcmBase64)}, ${bitrateBps})`)) as string[];
  } finally {
    await browser.close();
    http.close();
  }
}
