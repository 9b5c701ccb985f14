import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHost, type EngineHost } from '../../../src/engine/engine_host.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import type { RunningServer } from '../../../src/main.ts';
import { CARD_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { encodeWav16kMono } from '../../helpers/speech_wav_io.ts';
import { startTestServer } from '../../helpers/test_server.ts';

// chat.completions with the official `openai` package against Earshot on the tiny generated model. The
// words are meaningless; what is checked: streamed and plain answers are the same greedy text, audio
// parts reach the engine (audio tokens), prefix reuse continues an earlier request's KV cache and gives
// exactly the answer a fresh session gives, stop sequences and limits are honoured.

let host: EngineHost;
let server: RunningServer;
let fresh: RunningServer;
let client: OpenAI;
let freshClient: OpenAI;
const speech = placeWithGaps({ clips: [CARD_CLIPS[1]], gapsMs: [300, 300] }).samples16k;
const wavBase64 = Buffer.from(encodeWav16kMono(speech)).toString('base64');

beforeAll(async () => {
  host = createEngineHost({ modelDir: await ensureFixtureModel('tiny'), intraOpNumThreads: 1, interOpNumThreads: 1 });
  await host.ready;
  server = await startTestServer({}, { engine: host });
  // The same engine without prefix reuse: every request prefills from scratch.
  fresh = await startTestServer({ openai_api: { prefix_cache_max_bytes: 0 } }, { engine: host });
  client = new OpenAI({ apiKey: 'sk-earshot-test', baseURL: `${server.httpUrl}/v1`, maxRetries: 0 });
  freshClient = new OpenAI({ apiKey: 'sk-earshot-test', baseURL: `${fresh.httpUrl}/v1`, maxRetries: 0 });
}, 300_000);
afterAll(async () => {
  await server?.close();
  await fresh?.close();
  await host?.close();
});

const audioTurn = (text: string): ChatCompletionMessageParam => ({
  role: 'user',
  content: [
    { type: 'input_audio', input_audio: { data: wavBase64, format: 'wav' } },
    { type: 'text', text },
  ],
});

describe('OpenAI chat.completions', () => {
  it('an input_audio message: the plain and the streamed answer are the same text, with audio tokens in usage', async () => {
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are terse.' },
      audioTurn('What was said?'),
    ];
    const plain = await freshClient.chat.completions.create({
      model: 'phi-4-multimodal-instruct',
      messages,
      max_tokens: 8,
    });
    expect(plain.object).toBe('chat.completion');
    const answer = plain.choices[0];
    expect(answer.message.role).toBe('assistant');
    expect(answer.message.content!.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(answer.finish_reason);
    expect(plain.usage!.completion_tokens).toBeGreaterThan(0);
    expect(plain.usage!.completion_tokens).toBeLessThanOrEqual(8);
    expect(plain.usage!.prompt_tokens_details!.audio_tokens).toBeGreaterThan(0);
    expect(plain.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens_details!.audio_tokens!);

    const stream = await freshClient.chat.completions.create({
      model: 'phi-4-multimodal-instruct',
      messages,
      max_completion_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      text += choice.delta.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text).toBe(answer.message.content);
    expect(finish).toBe(answer.finish_reason);
    expect(usage).toEqual(plain.usage);
  }, 120_000);

  it('prefix reuse: a request extending an earlier one continues its KV cache and answers as a fresh session does', async () => {
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are terse.' },
      audioTurn('Turn one.'),
    ];
    for (let turn = 1; turn <= 3; turn++) {
      const reused = await client.chat.completions.create({ model: 'm', messages, max_tokens: 6 });
      const baseline = await freshClient.chat.completions.create({ model: 'm', messages, max_tokens: 6 });
      expect(reused.choices[0].message.content).toBe(baseline.choices[0].message.content);
      expect(reused.usage!.prompt_tokens).toBe(baseline.usage!.prompt_tokens);
      expect(baseline.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
      if (turn === 1) expect(reused.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
      else {
        // Everything up to the new user message came from the cache: the new turn alone was prefilled.
        expect(reused.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThan(0);
        expect(reused.usage!.prompt_tokens_details!.cached_tokens).toBeLessThan(reused.usage!.prompt_tokens);
        // The reused audio was not encoded again: only the new turn's audio counts.
        expect(reused.usage!.prompt_tokens_details!.audio_tokens).toBeLessThan(
          baseline.usage!.prompt_tokens_details!.audio_tokens!,
        );
      }
      messages.push(
        { role: 'assistant', content: reused.choices[0].message.content },
        turn % 2 === 0 ? audioTurn(`Turn ${turn + 1}.`) : { role: 'user', content: `Turn ${turn + 1}, in text.` },
      );
    }
    // A request that branches off an earlier point (an edited last turn) reuses the common prefix.
    const edited = messages.slice(0, 3).concat([{ role: 'user', content: 'Something else.' }]);
    const branch = await client.chat.completions.create({ model: 'm', messages: edited, max_tokens: 6 });
    const branchBaseline = await freshClient.chat.completions.create({ model: 'm', messages: edited, max_tokens: 6 });
    expect(branch.choices[0].message.content).toBe(branchBaseline.choices[0].message.content);
    expect(branch.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThan(0);
    expect(server.openAiApi.prefixCache.stats().bytes).toBeLessThanOrEqual(512 * 1024 * 1024);
  }, 180_000);

  it('stop sequences cut the answer before the sequence, streamed or not', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say something long.' }];
    const full = await freshClient.chat.completions.create({ model: 'm', messages, max_tokens: 12 });
    const content = full.choices[0].message.content!;
    const stopAt = content.slice(3, 5);
    expect(stopAt.length).toBe(2);
    const cut = await client.chat.completions.create({ model: 'm', messages, max_tokens: 12, stop: [stopAt] });
    expect(cut.choices[0].message.content).toBe(content.slice(0, content.indexOf(stopAt)));
    expect(cut.choices[0].finish_reason).toBe('stop');
    const stream = await client.chat.completions.create({
      model: 'm',
      messages,
      max_tokens: 12,
      stop: stopAt,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(content.slice(0, content.indexOf(stopAt)));
  }, 120_000);

  it('tools and tool_choice: a named function is called with parsed arguments', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    const forced = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 24,
      temperature: 0,
    });
    const choice = forced.choices[0];
    // The tiny model's arguments are random text: a call is either parsed (tool_calls) or its text is kept.
    if (choice.finish_reason === 'tool_calls') {
      expect(choice.message.tool_calls![0].type).toBe('function');
      expect((choice.message.tool_calls![0] as { function: { name: string } }).function.name).toBe('get_weather');
    } else {
      expect(choice.message.content).not.toContain('<|tool_call|>');
    }
    const sampled = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 5,
      temperature: 0.8,
      top_p: 0.9,
      seed: 7,
    });
    const again = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 5,
      temperature: 0.8,
      top_p: 0.9,
      seed: 7,
    });
    expect(sampled.choices[0].message.content).toBe(again.choices[0].message.content);
  }, 120_000);

  it('invalid requests get 400 with a stable code and the parameter', async () => {
    const bad = async (body: Record<string, unknown>) =>
      (await client.chat.completions.create(body as never).then(
        () => ({ status: 200, code: '', param: '' }),
        (e: unknown) => e,
      )) as { status: number; code: string; param: string };
    const noMessages = await bad({ model: 'm', messages: [] });
    expect(noMessages.status).toBe(400);
    expect(noMessages.code).toBe('E_INVALID_REQUEST');
    const image = await bad({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x' } }] }],
    });
    expect(image.code).toBe('E_UNSUPPORTED_FEATURE');
    expect(image.param).toBe('messages[0].content[0]');
    const mp3 = await bad({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: wavBase64, format: 'mp3' } }] }],
    });
    expect(mp3.code).toBe('E_UNSUPPORTED_FORMAT');
    const garbage = await bad({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'input_audio',
              input_audio: { data: Buffer.from('not a wav file at all').toString('base64'), format: 'wav' },
            },
          ],
        },
      ],
    });
    expect(garbage.status).toBe(400);
    expect(garbage.code).toBe('E_WAV_INVALID');
    const tooMany = await bad({ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 2 });
    expect(tooMany.param).toBe('n');
  }, 60_000);

  it('a client that disconnects mid-stream stops the generation; /metrics counts it as aborted', async () => {
    const metric = async (outcome: string) => {
      const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`earshot_api_requests_total{endpoint="chat_completions",outcome="${outcome}"}`));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const abortedBefore = await metric('aborted');
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: 'Talk for a long time.' }], max_tokens: 2000, stream: true },
      { signal: controller.signal },
    );
    let chunks = 0;
    try {
      for await (const _chunk of stream) if (++chunks === 3) controller.abort();
    } catch {
      // the SDK raises its APIUserAbortError
    }
    await expect.poll(() => metric('aborted'), { timeout: 20_000 }).toBe(abortedBefore + 1);
    expect(await metric('ok')).toBeGreaterThan(0);
    const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(text).toMatch(/earshot_api_prefix_cache_hits \d+/);
    // The engine is free again: a new request is answered.
    const after = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 3,
    });
    expect(after.choices[0].message.content!.length).toBeGreaterThan(0);
  }, 120_000);
});
