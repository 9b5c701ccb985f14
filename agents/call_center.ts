import { defineAgent } from '../src/agent/agent.ts';
import { findCustomer, listTickets, openTicket, saveCallSummary } from '../tools/index.ts';

export const callCenter = defineAgent({
  name: 'call-center',
  description:
    'Call-center agent: transcribes the caller, looks customers up, opens tickets, and summarises the call on request and when it ends.',
  instructions:
    'You are a call-center agent on a phone line. Be brief and polite. Identify the caller with find_customer (name, phone or id) ' +
    'before opening a ticket with open_ticket. When asked for a summary of the call, give one and save it with save_call_summary.',
  tools: [findCustomer, openTicket, listTickets, saveCallSummary],
  sessionType: 'realtime',
  generation: { maxOutputTokens: 300 },
  summarizeOnEnd: true,
});
