import { defineAgent } from '../src/agent/agent.ts';

export const captioner = defineAgent({
  name: 'captioner',
  description:
    'Live captions of every utterance; with audio.input.transcription.translate_to, live speech translation.',
  instructions: '',
  tools: [],
  sessionType: 'transcription',
  generation: { maxOutputTokens: 256 },
});
