// The browser client's controls in real Chromium against the real server composition (scripted engine: the
// test is about the page, not the model): an API key from the URL leaves the address bar and is exchanged
// for an ephemeral key, the readiness badge, instructions and turn-detection settings in session.update, a
// typed message answered, the event inspector with its filter, the microphone picker and level meter, mute
// and push-to-talk, copying the transcript, and a recording transcribed through the HTTP API. Screenshots go to .ci/out/e2e/.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { launchChromiumWithMicrophone } from '../helpers/chromium.ts';
import { ScriptedEngine } from '../helpers/scripted_engine.ts';
import { CARD_CLIPS, placeWithGaps, pocketsphinxAvailable } from '../helpers/speech_fixtures.ts';
import { CHROMIUM_PATH } from '../helpers/webrtc_opus_fixtures.ts';
import { startAgentServer } from '../integration/agent/agent_server.ts';

const ARTIFACTS = join(import.meta.dirname, '..', '..', '.ci', 'out', 'e2e');
const API_KEY = 'sk-earshot-browser-test-key-0123456789';
const runnable = existsSync(CHROMIUM_PATH) && pocketsphinxAvailable();

let server: RunningServer;
let browser: Browser;
let wavPath: string;

beforeAll(async () => {
  if (!runnable) return;
  const fixture = placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [1200, 2500], noiseLevel: 0.002 });
  wavPath = fixture.wavPath;
  server = await startAgentServer(new ScriptedEngine(), { auth: { api_keys: [API_KEY] } });
  browser = await launchChromiumWithMicrophone(fixture.wavPath);
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function serverEvents(page: Page): Promise<{ type: string; [k: string]: unknown }[]> {
  return page.evaluate(
    () => (window as unknown as { earshot: { events: { type: string }[] } }).earshot.events,
  ) as never;
}

describe.skipIf(!runnable)('browser client controls', () => {
  it('key exchange, readiness, settings, typed message, inspector, microphone, mute and copy', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.httpUrl });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${server.httpUrl}/?transport=websocket&key=${API_KEY}`);

    // The long-lived key left the address bar and sits in the (password) field.
    expect(page.url()).not.toContain(API_KEY);
    expect(await page.getByTestId('api-key').inputValue()).toBe(API_KEY);
    await expect
      .poll(() => page.getByTestId('readiness').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('ready');

    await page.locator('#settings summary').click();
    await page.getByTestId('instructions').fill('Answer like a ship captain.');
    await page.getByTestId('silence-ms').fill('700');
    await page.getByTestId('vad-threshold').fill('0.6');
    await page.getByTestId('connect').click();
    await expect
      .poll(() => page.getByTestId('status').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('connected');

    // The server applied the settings: its session.updated echo carries them.
    const updated = (await serverEvents(page)).filter((e) => e.type === 'session.updated').at(-1) as
      | {
          session: {
            instructions: string;
            audio: { input: { turn_detection: { silence_duration_ms: number; threshold: number } } };
          };
        }
      | undefined;
    expect(updated?.session.instructions).toBe('Answer like a ship captain.');
    expect(updated?.session.audio.input.turn_detection).toMatchObject({ silence_duration_ms: 700, threshold: 0.6 });

    // The microphone picker lists inputs; the meter moved while the fake microphone played its speech (the
    // file plays once, so by now it may be over: the meter keeps its peak).
    expect(await page.getByTestId('mic-select').locator('option').count()).toBeGreaterThanOrEqual(1);
    await expect
      .poll(() => page.getByTestId('mic-level').evaluate((m) => Number((m as HTMLMeterElement).dataset.peak)), {
        timeout: 20_000,
      })
      .toBeGreaterThan(0.3);

    // The spoken utterance's caption arrives; Copy puts the transcript on the clipboard.
    await expect
      .poll(() => page.locator('#caption-list li:not(.pending)').count(), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(1);
    await page.getByTestId('copy-transcript').click();
    const captions = await page.locator('#caption-list li:not(.pending)').allTextContents();
    const clipboard = await page.evaluate(() => navigator.clipboard.readText());
    expect(clipboard.trim().length).toBeGreaterThan(0);
    expect(captions.join(' ')).toContain(clipboard.trim().split('\n')[0]);

    // The spoken turn's answer is done before typing: a typed turn is then never barged in on by that speech.
    await expect
      .poll(() => page.locator('.msg.assistant').allTextContents(), { timeout: 30_000 })
      .toContainEqual(expect.stringMatching(/^You said: utterance/));

    // A typed message gets an answer in the conversation.
    await page.getByTestId('text-input').fill('what is the weather like');
    await page.getByTestId('text-send').click();
    await expect
      .poll(() => page.locator('.msg.assistant').allTextContents(), { timeout: 30_000 })
      .toContainEqual(expect.stringContaining('what is the weather like'));

    // The inspector shows both directions and filters.
    await page.locator('#inspector summary').click();
    expect(Number(await page.getByTestId('event-count').textContent())).toBeGreaterThan(5);
    await page.getByTestId('event-filter').fill('client');
    const clientTypes = await page
      .locator('#event-list li:not([hidden])')
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.type));
    expect(clientTypes).toEqual(
      expect.arrayContaining(['session.update', 'conversation.item.create', 'response.create']),
    );
    expect(await page.locator('#event-list li:not([hidden])[data-direction="server"]').count()).toBe(0);
    await page.getByTestId('event-filter').fill('response.done');
    const doneRow = page.locator('#event-list li:not([hidden])').first();
    await doneRow.locator('button').click();
    expect(await doneRow.locator('pre').textContent()).toContain('"status": "completed"');

    // Mute and push-to-talk.
    await page.getByTestId('mute').click();
    expect(await page.getByTestId('mute').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('mute').click();
    expect(await page.getByTestId('mute').getAttribute('aria-pressed')).toBe('false');
    await page.getByTestId('ptt').check();
    expect(await page.getByTestId('mute').getAttribute('aria-pressed')).toBe('true');
    await page.locator('body').press('Space');
    await page.keyboard.down('Space');
    expect(await page.getByTestId('mute').getAttribute('aria-pressed')).toBe('false');
    await page.keyboard.up('Space');
    expect(await page.getByTestId('mute').getAttribute('aria-pressed')).toBe('true');

    // A recording chosen in the file picker is transcribed through POST /v1/audio/transcriptions.
    await page.getByTestId('file-input').setInputFiles(wavPath);
    await expect
      .poll(() => page.getByTestId('file-status').getAttribute('data-state'), { timeout: 60_000 })
      .toBe('done');
    const segments = await page.getByTestId('file-segments').locator('li').allTextContents();
    expect(segments.length).toBeGreaterThanOrEqual(1);
    expect(segments[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} - \d\d:\d\d:\d\d\.\d{3}\S/);

    await page.getByTestId('event-filter').fill('');
    await page.screenshot({ path: join(ARTIFACTS, 'client_controls.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
