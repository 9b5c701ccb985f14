import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { remoteEngineSchema, type RemoteEngineConfig } from '../../../src/config/remote_engine_schema.ts';
import type { GenerationEvent } from '../../../src/engine/engine_session.ts';
import { RemoteEngine } from '../../../src/engine/remote/remote_engine.ts';
import { EarshotError } from '../../../src/errors.ts';

// The remote engine's requests against a recording HTTP server on 127.0.0.1: the body vLLM's OpenAI
// server accepts (input_audio parts, the speech LoRA as `model`), byte-stable prefixes across turns,
// and failures mapped to E_ENGINE_REMOTE with bounded retries.

type Handler = (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void;
let server: Server | null = null;
const bodies: string[] = [];

async function remote(handler: Handler, overrides: Partial<RemoteEngineConfig> = {}): Promise<RemoteEngine> {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      bodies.push(raw);
      handler(req, res, JSON.parse(raw) as Record<string, unknown>);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return new RemoteEngine(
    remoteEngineSchema.parse({ url, model: 'phi4', speech_model: 'speech', retry_backoff_ms: 10, ...overrides }),
    4096,
  );
}

function sse(res: ServerResponse, words: string[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const w of words)
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })}\n\n`);
  res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
  res.write(
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 42, completion_tokens: words.length } })}\n\n`,
  );
  res.end('data: [DONE]\n\n');
}

async function collect(events: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const out: GenerationEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

afterEach(async () => {
  bodies.length = 0;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

describe('RemoteEngine requests', () => {
  it('vLLM-shaped bodies: input_audio WAV parts, the speech LoRA as model when audio is present, byte-stable prefixes', async () => {
    const engine = await remote((_req, res) => sse(res, ['Hel', 'lo']));
    const session = await engine.createSession();
    await session.appendSystem({
      instructions: 'Be brief.',
      tools: [{ name: 'get_time', description: 'Time now', parameters: { type: 'object', properties: {} } }],
    });
    const audio = await engine.encodeAudio(new Float32Array(16000).fill(0.1), 16000);
    expect(audio.audioTokens).toBe(13);
    await session.appendUser([
      { type: 'audio', audio },
      { type: 'text', text: 'Transcribe.' },
    ]);
    engine.releaseAudio(audio);
    const events = await collect(session.generate({ maxNewTokens: 16 }));
    expect(events.filter((e) => e.type === 'delta').map((e) => e.text)).toEqual(['Hel', 'lo']);
    expect(events.at(-1)).toMatchObject({
      type: 'done',
      text: 'Hello',
      finishReason: 'stop',
      usage: { promptTokens: 42, completionTokens: 2 },
    });
    const first = JSON.parse(bodies[0]) as {
      model: string;
      messages: { role: string; content: unknown }[];
      stream: boolean;
      max_tokens: number;
      temperature: number;
      tools: unknown[];
    };
    expect(first.model).toBe('speech');
    expect(first).toMatchObject({
      stream: true,
      max_tokens: 16,
      temperature: 0,
      stream_options: { include_usage: true },
    });
    expect(first.tools).toEqual([
      {
        type: 'function',
        function: { name: 'get_time', description: 'Time now', parameters: { type: 'object', properties: {} } },
      },
    ]);
    const part = (first.messages[1].content as { type: string; input_audio: { data: string; format: string } }[])[0];
    expect(part.type).toBe('input_audio');
    expect(part.input_audio.format).toBe('wav');
    expect(Buffer.from(part.input_audio.data, 'base64').subarray(0, 4).toString()).toBe('RIFF');

    await session.appendUser([{ type: 'text', text: 'And now?' }]);
    await collect(session.generate({ maxNewTokens: 16, sampling: { temperature: 0.7, topP: 0.9, seed: 3 } }));
    const second = JSON.parse(bodies[1]) as { messages: unknown[]; top_p: number; seed: number };
    expect(second).toMatchObject({ top_p: 0.9, seed: 3, temperature: 0.7 });
    // The second request's messages start with the first request's messages, byte for byte.
    const prefix = JSON.stringify(first.messages).slice(0, -1);
    expect(JSON.stringify(second.messages).startsWith(prefix)).toBe(true);
    expect(second.messages[2]).toEqual({ role: 'assistant', content: 'Hello' });

    // A caption-style branch: checkpoint, generate, rewind leaves the log as it was.
    const cp = session.checkpoint();
    await session.appendUser([{ type: 'text', text: 'side pass' }]);
    await collect(session.generate({ maxNewTokens: 4 }));
    await session.rewind(cp);
    await collect(session.generate({ maxNewTokens: 4 }));
    expect((JSON.parse(bodies[3]) as { messages: unknown[] }).messages).toHaveLength(second.messages.length + 1);
    await engine.close();
  });

  it('a text-only conversation uses the base model; a refused request is E_ENGINE_REMOTE, not retried', async () => {
    let calls = 0;
    const engine = await remote((_req, res) => {
      calls += 1;
      if (calls === 1) return sse(res, ['ok']);
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'E_INVALID_REQUEST', message: 'bad' } }));
    });
    const session = await engine.createSession();
    await session.appendUser([{ type: 'text', text: 'Hi' }]);
    await collect(session.generate({ maxNewTokens: 4 }));
    expect((JSON.parse(bodies[0]) as { model: string }).model).toBe('phi4');
    const err = await collect(session.generate({ maxNewTokens: 4 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EarshotError);
    expect(err).toMatchObject({ code: 'E_ENGINE_REMOTE', retryable: false });
    expect(calls).toBe(2);
    await engine.close();
  });

  it('503s are retried max_retries times, then fail retryable; a stalled stream times out', async () => {
    let calls = 0;
    const engine = await remote(
      (_req, res) => {
        calls += 1;
        res.writeHead(503).end();
      },
      { max_retries: 2 },
    );
    const session = await engine.createSession();
    await session.appendUser([{ type: 'text', text: 'Hi' }]);
    const err = await collect(session.generate({ maxNewTokens: 4 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_ENGINE_REMOTE', retryable: true });
    expect(calls).toBe(3);
    await engine.close();
    await new Promise<void>((resolve) => server!.close(() => resolve()));

    const stalled = await remote(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'a' } }] })}\n\n`);
        // then nothing
      },
      { stream_idle_timeout_ms: 200 },
    );
    const s2 = await stalled.createSession();
    await s2.appendUser([{ type: 'text', text: 'Hi' }]);
    const timeout = await collect(s2.generate({ maxNewTokens: 4 })).catch((e: unknown) => e);
    expect(timeout).toMatchObject({ code: 'E_ENGINE_REMOTE' });
    expect(String((timeout as Error).message)).toContain('stream_idle_timeout_ms');
    server!.closeAllConnections();
    await stalled.close();
  });

  it('an aborted generation ends with finishReason aborted and closes the HTTP request', async () => {
    let closed = false;
    const engine = await remote((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(
        () => res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'x' } }] })}\n\n`),
        5,
      );
      res.on('close', () => {
        closed = true;
        clearInterval(timer);
      });
    });
    const session = await engine.createSession();
    await session.appendUser([{ type: 'text', text: 'Hi' }]);
    const controller = new AbortController();
    const events: GenerationEvent[] = [];
    for await (const e of session.generate({ maxNewTokens: 1000 }, controller.signal)) {
      events.push(e);
      if (events.length === 3) controller.abort();
    }
    expect(events.at(-1)).toMatchObject({ type: 'done', finishReason: 'aborted' });
    await expect.poll(() => closed, { timeout: 5000 }).toBe(true);
    await engine.close();
  });

  it("history 'transcripts': an earlier audio turn travels as its transcript once it has one; the latest keeps its audio", async () => {
    const engine = await remote((_req, res) => sse(res, ['ok']), { history: 'transcripts' });
    const session = await engine.createSession();
    const a1 = await engine.encodeAudio(new Float32Array(8000).fill(0.1), 8000);
    const turn = await session.appendUser([{ type: 'audio', audio: a1 }]);
    session.setTranscript(turn, 'book a table');
    await collect(session.generate({ maxNewTokens: 4 }));
    const a2 = await engine.encodeAudio(new Float32Array(16000), 16000);
    await session.appendUser([{ type: 'audio', audio: a2 }]);
    await collect(session.generate({ maxNewTokens: 4 }));
    const first = JSON.parse(bodies[0]) as { messages: { content: { type: string }[] }[] };
    const second = JSON.parse(bodies[1]) as {
      model: string;
      messages: { content: { type: string; text?: string }[] }[];
    };
    // The only user turn is the latest: audio (8 kHz WAV kept at 8 kHz).
    expect(first.messages[0].content[0].type).toBe('input_audio');
    const wav8k = Buffer.from(
      (first.messages[0].content[0] as unknown as { input_audio: { data: string } }).input_audio.data,
      'base64',
    );
    expect(wav8k.readUInt32LE(24)).toBe(8000);
    expect(second.messages[0].content).toEqual([{ type: 'text', text: 'book a table' }]);
    expect(second.messages[2].content[0].type).toBe('input_audio');
    expect(second.model).toBe('speech');
    await engine.close();
  });
});
