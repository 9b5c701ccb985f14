import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { streamPcm16k, use16kBinary } from '../agent/agent_server.ts';

// earshot_audio_input_seconds_total counts every input sample, with turn detection on or off.
let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer({}, { engine: null });
});
afterAll(async () => server?.close());

async function audioSeconds(): Promise<number> {
  const text = await server.metrics.registry.metrics();
  return Number(/^earshot_audio_input_seconds_total ([0-9.e+-]+)$/m.exec(text)?.[1] ?? NaN);
}

describe('audio input metric', () => {
  it('counts audio of sessions with server VAD and with manual turns alike', async () => {
    const before = await audioSeconds();
    const vad = await TestClient.connect(server.url);
    await use16kBinary(vad);
    const manual = await TestClient.connect(server.url);
    await use16kBinary(manual, {
      audio: { input: { format: { type: 'audio/pcm', rate: 16000 }, turn_detection: null } },
    });
    expect(manual.ofType('error')).toEqual([]);
    streamPcm16k(vad, new Float32Array(2 * 16_000));
    streamPcm16k(manual, new Float32Array(3 * 16_000));
    await vad.roundTrip();
    await manual.roundTrip();
    expect((await audioSeconds()) - before).toBeCloseTo(5, 6);
    await Promise.all([vad.close(), manual.close()]);
  });
});
