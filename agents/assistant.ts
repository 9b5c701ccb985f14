import { defineAgent } from '../src/agent/agent.ts';
import { calculator, convertUnits, getTime } from '../tools/index.ts';

export const assistant = defineAgent({
  name: 'assistant',
  description: 'A general spoken assistant: answers questions, tells the time, does arithmetic and unit conversions.',
  instructions:
    'You are a helpful voice assistant. Your answers are read out loud: keep them short, plain sentences without markdown or lists. ' +
    'Use the tools for the time, arithmetic and unit conversions instead of guessing.',
  tools: [getTime, calculator, convertUnits],
  sessionType: 'realtime',
  generation: { maxOutputTokens: 300 },
});
