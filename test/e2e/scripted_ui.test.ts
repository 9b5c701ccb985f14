import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { serverEvent, type ServerEventPayload } from '../../src/protocol/server_events.ts';
import type { SessionObject } from '../../src/protocol/server_session.ts';
import { createStaticRoute } from '../../src/transport/static_route.ts';

// The page's rendering, driven by a scripted Realtime server (events in, UI out): interim captions
// replaced by finals, an answer streaming token by token, a tool card, a barge-in, the latency readout
// and the WebVTT download. Independent of the engine, so it runs before transcription exists.

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', '..', '.ci', 'out', 'e2e');

let http: Server;
let baseUrl: string;
/** The test's handle on the page's socket once it connects. */
let socketReady: Promise<WebSocket>;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  const route = createStaticRoute();
  http = createServer((req, res) => {
    void (async () => {
      if (!(await route(req, res, new URL(req.url ?? '/', 'http://localhost')))) res.writeHead(404).end();
    })();
  });
  const wss = new WebSocketServer({
    server: http,
    path: '/v1/realtime',
    handleProtocols: (p) => (p.has('realtime') ? 'realtime' : false),
  });
  socketReady = new Promise((resolve) => wss.once('connection', (ws) => resolve(ws)));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--no-first-run',
    ],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  http?.closeAllConnections();
  await new Promise((resolve) => http?.close(resolve));
});

const session: SessionObject = {
  id: 'sess_1',
  object: 'realtime.session',
  type: 'realtime',
  model: 'phi-4',
  output_modalities: ['text'],
  instructions: '',
  audio: {
    input: {
      format: { type: 'audio/pcm', rate: 16000 },
      transcription: { model: 'phi-4' },
      noise_reduction: null,
      turn_detection: null,
    },
  },
  tools: [],
  tool_choice: 'auto',
  max_output_tokens: 'inf',
  tracing: null,
  prompt: null,
  include: null,
  expires_at: 0,
};

function response(id: string, status: 'in_progress' | 'completed' | 'cancelled', reason?: 'turn_detected') {
  return {
    id,
    object: 'realtime.response' as const,
    status,
    status_details: reason ? { type: 'cancelled' as const, reason } : null,
    output: [],
    conversation_id: 'conv_1',
    output_modalities: ['text' as const],
    max_output_tokens: 'inf' as const,
    usage: null,
    metadata: null,
  };
}

describe.skipIf(!existsSync(CHROMIUM))('browser client rendering (scripted server)', () => {
  it('renders captions, a streaming answer, a tool card, a barge-in and latency, and downloads WebVTT', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${baseUrl}/?transport=websocket&agent=trip-planner`);
    await page.getByTestId('connect').click();
    const ws = await socketReady;
    const fromPage: string[] = [];
    const send = (payload: ServerEventPayload) => ws.send(JSON.stringify(serverEvent(payload)));
    await new Promise<void>((resolve) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const event = JSON.parse(data.toString()) as { type: string };
        fromPage.push(event.type);
        if (event.type === 'session.update') {
          send({ type: 'session.updated', session });
          resolve();
        }
      });
      send({ type: 'session.created', session });
    });
    await page
      .getByTestId('status')
      .filter({ hasText: /^connected/ })
      .waitFor();
    expect(fromPage[0]).toBe('session.update');

    // Utterance 1: interim text, then the final replaces it.
    send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 1200, item_id: 'item_u1' });
    await expect.poll(() => page.getByTestId('caption-interim').textContent()).toContain('listening');
    send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 3400, item_id: 'item_u1' });
    send({ type: 'input_audio_buffer.committed', item_id: 'item_u1', previous_item_id: null });
    send({
      type: 'conversation.item.input_audio_transcription.delta',
      item_id: 'item_u1',
      content_index: 0,
      delta: 'What time is it ',
    });
    await expect.poll(() => page.getByTestId('caption-interim').textContent()).toContain('What time is it');
    expect(await page.getByTestId('caption-final').count()).toBe(0);
    send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_u1',
      content_index: 0,
      transcript: 'What time is it in Lyon?',
      usage: { type: 'duration', seconds: 2 },
    });
    await expect.poll(() => page.getByTestId('caption-final').count()).toBe(1);
    expect(await page.getByTestId('caption-final').textContent()).toContain('What time is it in Lyon?');
    expect(await page.getByTestId('caption-interim').isVisible()).toBe(false);
    await expect.poll(() => page.getByTestId('latency').textContent()).toMatch(/^\d+ ms$/);

    // A tool call with its result, then the answer streaming token by token.
    send({ type: 'response.created', response: response('resp_1', 'in_progress') });
    send({
      type: 'response.function_call_arguments.done',
      response_id: 'resp_1',
      item_id: 'item_c1',
      output_index: 0,
      call_id: 'call_1',
      name: 'local_time',
      arguments: '{"city":"Lyon"}',
    });
    send({
      type: 'conversation.item.added',
      previous_item_id: 'item_c1',
      item: {
        id: 'item_o1',
        object: 'realtime.item',
        type: 'function_call_output',
        call_id: 'call_1',
        output: '{"time":"14:05"}',
      },
    });
    await expect.poll(() => page.getByTestId('tool-call').textContent()).toContain('14:05');
    expect(await page.getByTestId('tool-call').textContent()).toContain('local_time');
    send({
      type: 'response.output_text.delta',
      response_id: 'resp_1',
      item_id: 'item_a1',
      output_index: 1,
      content_index: 0,
      delta: 'It is ',
    });
    await expect.poll(() => page.getByTestId('assistant-message').textContent()).toBe('It is ');
    send({
      type: 'response.output_text.delta',
      response_id: 'resp_1',
      item_id: 'item_a1',
      output_index: 1,
      content_index: 0,
      delta: '14:05 in Lyon.',
    });
    await expect.poll(() => page.getByTestId('assistant-message').textContent()).toBe('It is 14:05 in Lyon.');
    send({ type: 'response.done', response: response('resp_1', 'completed') });
    await expect.poll(() => page.getByTestId('assistant-message').getAttribute('data-state')).toBe('done');

    // Utterance 2 barges in on the next answer.
    send({ type: 'response.created', response: response('resp_2', 'in_progress') });
    send({
      type: 'response.output_text.delta',
      response_id: 'resp_2',
      item_id: 'item_a2',
      output_index: 0,
      content_index: 0,
      delta: 'The next train',
    });
    send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 5000, item_id: 'item_u2' });
    send({ type: 'response.done', response: response('resp_2', 'cancelled', 'turn_detected') });
    await expect.poll(() => page.getByTestId('interruption').isVisible()).toBe(true);
    expect(await page.getByTestId('assistant-message').nth(1).getAttribute('data-state')).toBe('cancelled');
    send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 6250, item_id: 'item_u2' });
    send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_u2',
      content_index: 0,
      transcript: 'Never mind, thanks.',
      usage: { type: 'duration', seconds: 1 },
    });
    await expect.poll(() => page.getByTestId('caption-final').count()).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, 'scripted_ui.png'), fullPage: true });

    const download = page.waitForEvent('download');
    await page.getByTestId('download-vtt').click();
    const vtt = readFileSync((await (await download).path())!, 'utf8');
    expect(vtt).toBe(
      'WEBVTT\n\n1\n00:00:01.200 --> 00:00:03.400\nWhat time is it in Lyon?\n\n2\n00:00:05.000 --> 00:00:06.250\nNever mind, thanks.\n',
    );

    // Keyboard: Alt+C disconnects, L toggles the large-text view.
    await page.keyboard.press('l');
    expect(await page.evaluate(() => document.body.classList.contains('large'))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'scripted_ui_large.png') });
    await page.keyboard.press('Escape');
    await page.keyboard.press('Alt+c');
    await page
      .getByTestId('status')
      .filter({ hasText: /^closed/ })
      .waitFor();
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);
});
