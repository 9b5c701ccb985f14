import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { ScriptedEngine } from '../../helpers/scripted_engine.ts';
import { LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { startAgentServer, streamPcm16k, use16kBinary } from './agent_server.ts';

// turn_detection.idle_timeout_ms on the audio clock: silence streamed faster than real time triggers it
// after exactly that much audio (100 ms chunks: the clock advances by chunk), never during speech, once
// per idle stretch; with create_response the model is prompted to follow up.

const engine = new ScriptedEngine({
  answer: (ctx) =>
    /said nothing for/.test(ctx.lastUser?.text ?? '') ? 'Are you still there?' : `Answer to ${ctx.heard ?? ''}.`,
});

let server: RunningServer;
beforeAll(async () => {
  server = await startAgentServer(engine);
});
afterAll(async () => {
  await server.close();
});

const silence = (ms: number) => new Float32Array(ms * 16);

async function connect(turnDetection: Record<string, unknown>): Promise<TestClient> {
  const c = await TestClient.connect(server.url);
  await use16kBinary(c, {
    audio: {
      input: { format: { type: 'audio/pcm', rate: 16000 }, turn_detection: { type: 'server_vad', ...turnDetection } },
    },
  });
  return c;
}

describe('idle_timeout_ms', () => {
  it('is accepted and echoed; below a second is refused', async () => {
    const c = await connect({ idle_timeout_ms: 5000 });
    const updated = c.ofType('session.updated').at(-1)!;
    expect(
      (updated.session as { audio: { input: { turn_detection: { idle_timeout_ms: number } } } }).audio.input
        .turn_detection.idle_timeout_ms,
    ).toBe(5000);
    c.send({
      type: 'session.update',
      session: { audio: { input: { turn_detection: { type: 'server_vad', idle_timeout_ms: 200 } } } },
    });
    const error = await c.waitFor((e) => e.type === 'error');
    expect(error.error).toMatchObject({
      code: 'E_INVALID_EVENT',
      param: 'session.audio.input.turn_detection.idle_timeout_ms',
    });
    await c.close();
  });

  it('fires after the configured audio time of silence from the session start, commits the stretch, and a response follows', async () => {
    const c = await connect({ idle_timeout_ms: 2000 });
    streamPcm16k(c, silence(1900));
    streamPcm16k(c, silence(100));
    const triggered = await c.waitFor((e) => e.type === 'input_audio_buffer.timeout_triggered');
    expect(triggered).toMatchObject({ audio_start_ms: 0, audio_end_ms: 2000 });
    const itemId = triggered.item_id as string;
    const done = await c.waitFor((e) => e.type === 'response.done');
    const ev = c.events;
    const at = (pred: (e: (typeof ev)[number]) => boolean) => ev.findIndex(pred);
    const order = [
      at((e) => e.type === 'input_audio_buffer.timeout_triggered'),
      at((e) => e.type === 'input_audio_buffer.committed' && e.item_id === itemId),
      at((e) => e.type === 'conversation.item.added' && (e.item as { id: string }).id === itemId),
      at((e) => e.type === 'response.created'),
      at((e) => e === done),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(
      c
        .ofType('response.output_text.delta')
        .map((e) => e.delta)
        .join(''),
    ).toBe('Are you still there?');
    // The model saw the silent stretch as audio (2 s) with the follow-up prompt.
    const session = engine.sessions.at(-1)!;
    const user = session.log.filter((e) => e.role === 'user').at(-1)!;
    expect(user.role === 'user' && user.audio[0].durationMs).toBe(2000);
    expect(c.ofType('input_audio_buffer.speech_started')).toEqual([]);

    // The next stretch counts from when the response finished (all 2000 ms were processed by then).
    const from = c.events.length;
    streamPcm16k(c, silence(1900));
    await c.roundTrip();
    expect(c.events.slice(from).filter((e) => e.type === 'input_audio_buffer.timeout_triggered')).toEqual([]);
    streamPcm16k(c, silence(100));
    const second = await c.waitFor((e) => e.type === 'input_audio_buffer.timeout_triggered', 10_000, from);
    expect(second).toMatchObject({ audio_start_ms: 2000, audio_end_ms: 4000 });
    await c.waitFor((e) => e.type === 'response.done', 10_000, from);
    expect(c.ofType('error')).toEqual([]);
    await c.close();
  });

  it('fires once per idle stretch (create_response false: no response, and no second trigger)', async () => {
    const c = await connect({ idle_timeout_ms: 1000, create_response: false });
    streamPcm16k(c, silence(5000));
    await c.waitFor((e) => e.type === 'input_audio_buffer.timeout_triggered');
    await c.roundTrip();
    // Give the pipeline the time to process all 5 s (a commit after the audio is answered in order).
    c.send({ type: 'input_audio_buffer.commit' });
    await c.waitFor((e) => e.type === 'error' && (e.error as { code: string }).code === 'E_BUFFER_EMPTY');
    expect(c.ofType('input_audio_buffer.timeout_triggered')).toHaveLength(1);
    expect(c.ofType('input_audio_buffer.timeout_triggered')[0]).toMatchObject({
      audio_start_ms: 0,
      audio_end_ms: 1000,
    });
    expect(c.ofType('input_audio_buffer.committed')).toHaveLength(1);
    expect(c.ofType('response.created')).toEqual([]);
    await c.close();
  });

  it('does not fire during speech; the stretch restarts after the answer to it', async () => {
    // 600 ms of lead-in, a clip of several seconds of speech, then 400 ms: with a 1500 ms timeout only
    // the speech's own length could trigger it, and it must not.
    const c = await connect({ idle_timeout_ms: 1500 });
    const fixture = placeWithGaps({ clips: [LIBRIVOX_CLIPS[0]], gapsMs: [600, 1000] });
    const truth = fixture.truth[0];
    expect(truth.offsetMs - truth.onsetMs).toBeGreaterThan(1500);
    streamPcm16k(c, fixture.samples16k);
    const done = await c.waitFor((e) => e.type === 'response.done', 30_000);
    expect((done.response as { status: string }).status).toBe('completed');
    c.send({ type: 'input_audio_buffer.commit' });
    await c.waitFor((e) => e.type === 'error' && (e.error as { code: string }).code === 'E_BUFFER_EMPTY');
    expect(c.ofType('input_audio_buffer.speech_started')).toHaveLength(1);
    expect(c.ofType('input_audio_buffer.timeout_triggered')).toEqual([]);
    await c.close();
  });
});
