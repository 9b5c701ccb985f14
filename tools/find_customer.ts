import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';

export const findCustomer = defineTool({
  name: 'find_customer',
  description: 'Finds customers by name, phone number, email or customer id (e.g. C-1001).',
  parameters: z.object({ query: z.string().min(2).max(100).describe('name, phone, email or id') }),
  execute: ({ query }, { services }) => {
    const customers = services.callCenter().findCustomers(query);
    return customers.length > 0 ? { customers } : { customers: [], note: `no customer matches "${query}"` };
  },
});
