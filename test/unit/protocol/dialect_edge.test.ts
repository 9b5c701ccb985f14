import { describe, expect, it } from 'vitest';
import { ItemChain } from '../../../src/agent/item_chain.ts';
import { encodeServerEventIn, serverEvent, toBetaParam } from '../../../src/protocol/index.ts';
import { ignoredFields } from '../../../src/session/session_support.ts';

// The dialect is applied only where events are written (encodeServerEventIn) and where errors name a
// field (toBetaParam); fields without effect are listed, in the client's spelling, never refused.

describe('dialect at the wire', () => {
  it('encodes one GA event as GA or beta text, and drops what the beta API lacks', () => {
    const delta = serverEvent({
      type: 'response.output_text.delta',
      response_id: 'resp_1',
      item_id: 'item_1',
      output_index: 0,
      content_index: 0,
      delta: 'hi',
    });
    expect(JSON.parse(encodeServerEventIn('ga', delta)!)).toMatchObject({
      type: 'response.output_text.delta',
      delta: 'hi',
    });
    expect(JSON.parse(encodeServerEventIn('beta', delta)!)).toMatchObject({
      type: 'response.text.delta',
      delta: 'hi',
      event_id: delta.event_id,
    });
    const itemDone = serverEvent({
      type: 'conversation.item.done',
      previous_item_id: null,
      item: {
        id: 'item_1',
        object: 'realtime.item',
        type: 'function_call_output',
        status: 'completed',
        call_id: 'c',
        output: '{}',
      },
    });
    expect(encodeServerEventIn('beta', itemDone)).toBeNull();
    expect(encodeServerEventIn('ga', itemDone)).not.toBeNull();
  });

  it('names GA params in the beta spelling', () => {
    expect(toBetaParam('session.audio.input.turn_detection.silence_duration_ms')).toBe(
      'session.turn_detection.silence_duration_ms',
    );
    expect(toBetaParam('session.max_output_tokens')).toBe('session.max_response_output_tokens');
    expect(toBetaParam('session.tools[0]')).toBe('session.tools[0]');
  });
});

describe('ignoredFields', () => {
  it('lists voices, audio output, noise reduction and platform fields, in the dialect the client used', () => {
    expect(
      ignoredFields(
        {
          output_modalities: ['audio'],
          audio: {
            output: { voice: 'marin', format: { type: 'audio/pcm', rate: 24000 }, speed: 1 },
            input: { noise_reduction: { type: 'far_field' } },
          },
          tracing: 'auto',
        },
        'ga',
      ).map((f) => f.param),
    ).toEqual([
      'session.output_modalities',
      'session.audio.output.voice',
      'session.audio.output.format',
      'session.audio.output.speed',
      'session.audio.input.noise_reduction',
      'session.tracing',
    ]);
    expect(
      ignoredFields(
        {
          modalities: ['text', 'audio'],
          voice: 'alloy',
          output_audio_format: 'pcm16',
          input_audio_noise_reduction: { type: 'near_field' },
          temperature: 0.8,
        },
        'beta',
      ).map((f) => f.param),
    ).toEqual([
      'session.modalities',
      'session.voice',
      'session.output_audio_format',
      'session.input_audio_noise_reduction',
      'session.temperature',
    ]);
    expect(
      ignoredFields({ output_modalities: ['text'], audio: { input: { noise_reduction: null } }, tracing: null }, 'ga'),
    ).toEqual([]);
  });
});

describe('ItemChain.insertAfter', () => {
  it('places an item after any item, or first, and reports the item before it', () => {
    const chain = new ItemChain();
    chain.append('a');
    chain.append('b');
    expect(chain.insertAfter('a', 'x')).toBe('a');
    expect(chain.insertAfter(null, 'r')).toBeNull();
    expect(chain.insertAfter('unknown', 'z')).toBe('b');
    expect(chain.ids()).toEqual(['r', 'a', 'x', 'b', 'z']);
    expect(chain.previousOf('b')).toBe('x');
  });

  it('knows which calls have an output', () => {
    const chain = new ItemChain();
    chain.append('o', {
      id: 'o',
      object: 'realtime.item',
      type: 'function_call_output',
      status: 'completed',
      call_id: 'call_1',
      output: '{}',
    });
    expect(chain.isAnswered('call_1')).toBe(true);
    expect(chain.isAnswered('call_2')).toBe(false);
  });
});
