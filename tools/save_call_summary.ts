import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';

export const saveCallSummary = defineTool({
  name: 'save_call_summary',
  description: 'Saves the summary of this call to the call record (when the caller or agent asks for one).',
  parameters: z.object({
    summary: z.string().min(10).max(4000),
    key_points: z.array(z.string().max(300)).max(20).default([]),
  }),
  execute: ({ summary, key_points }, { services, sessionId }) => {
    services.callCenter().saveCallSummary(sessionId, summary, key_points);
    return { saved: true, call_id: sessionId };
  },
});
