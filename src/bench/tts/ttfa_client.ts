// The client side of the time-to-first-audio benchmark (ttfa.ts), run on a worker thread: one WebSocket
// connection asking `answers` spoken questions in a row, timing each answer's first transcript delta and
// first audio delta as they arrive.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

export interface AnswerSample {
  ttfaMs: number;
  charsBeforeAudio: number;
  answerMs: number;
  textBeforeAudio: string;
  /** The answer's whole transcript. */
  answerText: string;
}

/** One connection, `answers` spoken answers one after the other. */
export async function askInARow(
  url: string,
  answers: number,
  maxTokens: number,
  log: (m: string) => void,
): Promise<AnswerSample[]> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
  const samples: AnswerSample[] = [];
  let current: {
    startMs: number;
    textMs: number | null;
    chars: number;
    text: string;
    answer: string;
    audioMs: number | null;
    done: () => void;
  } | null = null;
  ws.on('message', (data) => {
    const now = performance.now();
    const event = JSON.parse(data.toString()) as { type: string; delta?: string; error?: { message: string } };
    if (event.type === 'error') throw new Error(`server error: ${event.error?.message}`);
    if (!current) return;
    if (event.type === 'response.output_audio_transcript.delta') {
      current.textMs ??= now;
      current.answer += event.delta ?? '';
      if (current.audioMs === null) {
        current.chars += event.delta?.length ?? 0;
        current.text += event.delta ?? '';
      }
    } else if (event.type === 'response.output_audio.delta') current.audioMs ??= now;
    else if (event.type === 'response.done') current.done();
  });
  const send = (event: Record<string, unknown>) => ws.send(JSON.stringify(event));
  send({
    type: 'session.update',
    session: { output_modalities: ['audio'], max_output_tokens: maxTokens, audio: { input: { turn_detection: null } } },
  });
  try {
    for (let i = 0; i < answers; i++) {
      const finished = new Promise<void>((resolve) => {
        current = {
          startMs: performance.now(),
          textMs: null,
          chars: 0,
          text: '',
          answer: '',
          audioMs: null,
          done: resolve,
        };
      });
      send({
        type: 'conversation.item.create',
        item: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: `Question ${i + 1}: what is the weather like?` }],
        },
      });
      send({ type: 'response.create' });
      await finished;
      const a = current!;
      if (a.textMs !== null && a.audioMs !== null)
        samples.push({
          ttfaMs: a.audioMs - a.textMs,
          charsBeforeAudio: a.chars,
          textBeforeAudio: a.text,
          answerText: a.answer,
          answerMs: performance.now() - a.startMs,
        });
      log(`answer ${i + 1}/${answers}`);
    }
  } finally {
    ws.close();
  }
  return samples;
}

/** Worker entry: runs askInARow with workerData and posts {progress}, then {samples} or {error}. */
export async function runClientWorker(): Promise<void> {
  const port = parentPort!;
  const { url, answers, maxTokens } = workerData as { url: string; answers: number; maxTokens: number };
  try {
    const samples = await askInARow(url, answers, maxTokens, (progress) => port.postMessage({ progress }));
    port.postMessage({ samples });
  } catch (err) {
    port.postMessage({ error: (err as Error).message });
  }
}
