import type { Browser, Page } from 'playwright-core';
import { launchChromiumWithMicrophone } from '../helpers/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedEngine } from '../helpers/scripted_engine.ts';
import { CARD_CLIPS, placeWithGaps } from '../helpers/speech_fixtures.ts';
import { chromiumAvailable } from '../helpers/webrtc_opus_fixtures.ts';
import { startWebRtcAgentServer, type WebRtcAgentServer } from './webrtc_browser_server.ts';

// The browser path of @openai/agents-realtime: its WebRTC transport (POST /v1/realtime/calls, the
// `oai-events` data channel, the microphone track) in headless Chromium with a fake microphone playing
// a speech WAV, the SDK bundled by esbuild from node_modules (no CDN).

const engine = new ScriptedEngine({
  transcribe: (pcm) => `heard ${Math.round(pcm.length / 16)} ms`,
  answer: (ctx) => {
    const text = ctx.lastUser?.text ?? '';
    if (text === 'What is the weather in Paris?') {
      return ctx.toolResponses.length === 0
        ? '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|/tool_call|>'
        : `The weather: ${ctx.toolResponses[0]}`;
    }
    return `You said: ${ctx.heard ?? text}`;
  },
});

// Runs in the page (a string, so the test transpiler adds no helpers).
const START = `
window.startSession = async (baseUrl) => {
  const { RealtimeAgent, RealtimeSession, OpenAIRealtimeWebRTC, tool, parseRealtimeEvent } = window.AgentsRealtime;
  const state = { events: [], generic: [], errors: [], toolCalls: [] };
  window.state = state;
  const getWeather = tool({
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
    strict: true,
    execute: async ({ city }) => { state.toolCalls.push(city); return 'sunny in ' + city; },
  });
  const agent = new RealtimeAgent({ name: 'Assistant', instructions: 'Answer briefly.', tools: [getWeather] });
  const transport = new OpenAIRealtimeWebRTC({ baseUrl: baseUrl + '/v1/realtime/calls', useInsecureApiKey: true });
  const session = new RealtimeSession(agent, {
    transport,
    model: 'phi-4-multimodal-instruct',
    tracingDisabled: true,
    config: { outputModalities: ['text'], audio: { input: { turnDetection: { type: 'server_vad' } } } },
  });
  session.on('transport_event', (e) => {
    if (typeof e.event_id !== 'string') return;
    state.events.push(e);
    if (parseRealtimeEvent({ data: JSON.stringify(e) }).isGeneric) state.generic.push(e.type);
  });
  session.on('error', (e) => state.errors.push(String(e && e.error && (e.error.message || JSON.stringify(e.error)))));
  await session.connect({ apiKey: 'sk-earshot-test' });
  window.session = session;
  return transport.callId;
};
`;

describe.skipIf(!chromiumAvailable())('@openai/agents-realtime WebRTC transport in Chromium', () => {
  let server: WebRtcAgentServer;
  let browser: Browser;
  const fixture = placeWithGaps({ clips: [CARD_CLIPS[4]], gapsMs: [1500, 3000], noiseLevel: 0.002 });

  beforeAll(async () => {
    server = await startWebRtcAgentServer(engine);
    browser = await launchChromiumWithMicrophone(fixture.wavPath);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const count = (page: Page, type: string) =>
    page.evaluate(`window.state.events.filter((e) => e.type === ${JSON.stringify(type)}).length`) as Promise<number>;
  const waitCount = (page: Page, type: string, n: number) =>
    page.waitForFunction(
      `window.state.events.filter((e) => e.type === ${JSON.stringify(type)}).length >= ${n}`,
      undefined,
      { timeout: 30_000 },
    );

  it('a spoken turn from the microphone and a client-side tool, every event parsed by the SDK', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    await page.goto(`${server.baseUrl}/`);
    await page.addScriptTag({ content: START });
    const callId = (await page.evaluate(`window.startSession(${JSON.stringify(server.baseUrl)})`)) as string;
    expect(callId).toMatch(/^rtc_/);
    // The microphone's utterance: transcript, then the answer to it.
    await waitCount(page, 'response.done', 1);
    const transcript = (await page.evaluate(
      `window.state.events.find((e) => e.type === 'conversation.item.input_audio_transcription.completed').transcript`,
    )) as string;
    expect(transcript).toMatch(/^heard \d+ ms$/);
    const answer = (await page.evaluate(
      `window.state.events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('')`,
    )) as string;
    expect(answer).toBe(`You said: ${transcript}`);
    // A typed message that makes the model call the browser-side tool.
    await page.evaluate(`window.session.sendMessage('What is the weather in Paris?')`);
    await waitCount(page, 'response.done', 3);
    expect(await page.evaluate('window.state.toolCalls')).toEqual(['Paris']);
    const last = (await page.evaluate(
      `window.state.events.filter((e) => e.type === 'response.done').at(-1).response`,
    )) as { status: string; output: { content: { text: string }[] }[] };
    expect(last.status).toBe('completed');
    expect(last.output[0].content[0].text).toBe('The weather: sunny in Paris');
    await page.waitForFunction(
      `window.session.history.some((i) => i.type === 'message' && i.role === 'user' && i.content.some((c) => c.transcript))`,
      undefined,
      { timeout: 10_000 },
    );
    expect(await count(page, 'session.updated')).toBeGreaterThan(0);
    expect(await page.evaluate('window.state.generic')).toEqual([]);
    expect(await page.evaluate('window.state.errors')).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await page.evaluate('window.session.close()');
    await page.close();
  }, 90_000);
});
