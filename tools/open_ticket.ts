import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';

export const openTicket = defineTool({
  name: 'open_ticket',
  description: 'Opens a support ticket for a customer (use find_customer first to get the id).',
  parameters: z.object({
    customer_id: z.string().regex(/^C-\d{4}$/, 'a customer id such as C-1001'),
    subject: z.string().min(3).max(200),
    description: z.string().min(3).max(4000),
    priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal'),
  }),
  execute: ({ customer_id, subject, description, priority }, { services, sessionId }) => {
    const store = services.callCenter();
    if (!store.getCustomer(customer_id)) throw new Error(`no customer ${customer_id}`);
    return store.openTicket({ customerId: customer_id, subject, description, priority, callId: sessionId });
  },
});
