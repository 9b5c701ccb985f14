import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';

export const listTickets = defineTool({
  name: 'list_tickets',
  description: "Lists a customer's support tickets.",
  parameters: z.object({ customer_id: z.string().regex(/^C-\d{4}$/, 'a customer id such as C-1001') }),
  execute: ({ customer_id }, { services }) => ({
    customer_id,
    tickets: services.callCenter().listTickets(customer_id),
  }),
});
