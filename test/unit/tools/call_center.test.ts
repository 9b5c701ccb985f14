import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCustomer } from '../../../tools/find_customer.ts';
import { listTickets } from '../../../tools/list_tickets.ts';
import { openTicket } from '../../../tools/open_ticket.ts';
import { saveCallSummary } from '../../../tools/save_call_summary.ts';
import { CallCenterStore, SAMPLE_CUSTOMERS } from '../../../src/store/agent_call_center_store.ts';
import { callTool, okResult, tempServices } from './tool_harness.ts';

describe('find_customer', () => {
  it('finds seeded customers by name, phone, email or id', async () => {
    const services = tempServices();
    for (const query of ['lindqvist', '555 0101', 'ada.lindqvist@', 'c-1001']) {
      expect(okResult(await callTool(findCustomer, { query }, services))).toMatchObject({
        customers: [expect.objectContaining({ id: 'C-1001' })],
      });
    }
    expect(okResult(await callTool(findCustomer, { query: 'nobody here' }, services))).toMatchObject({ customers: [] });
    expect(await callTool(findCustomer, { query: 'a' }, services)).toMatchObject({ code: 'invalid_arguments' });
  });
});

describe('open_ticket / list_tickets', () => {
  it('opens tickets for known customers, lists them, and they survive a restart', async () => {
    const services = tempServices();
    const ticket = okResult(
      await callTool(
        openTicket,
        { customer_id: 'C-1003', subject: 'No internet', description: 'Router light is red since this morning.' },
        services,
        'sess_call1',
      ),
    );
    expect(ticket).toMatchObject({ customerId: 'C-1003', priority: 'normal', status: 'open', callId: 'sess_call1' });
    expect(okResult(await callTool(listTickets, { customer_id: 'C-1003' }, services))).toMatchObject({
      tickets: [expect.objectContaining({ subject: 'No internet' })],
    });
    services.close();
    const reopened = CallCenterStore.open(join(services.dir, 'call_center.sqlite'));
    expect(reopened.listTickets('C-1003')).toHaveLength(1);
    // Seeding is idempotent.
    expect(reopened.findCustomers('C-', 100)).toHaveLength(SAMPLE_CUSTOMERS.length);
    reopened.close();
  });
  it('refuses unknown customers and bad arguments', async () => {
    const services = tempServices();
    expect(
      await callTool(openTicket, { customer_id: 'C-9999', subject: 'x y z', description: 'abc' }, services),
    ).toMatchObject({ status: 'error', error: 'no customer C-9999' });
    expect(
      await callTool(openTicket, { customer_id: '1003', subject: 'x y z', description: 'abc' }, services),
    ).toMatchObject({ code: 'invalid_arguments' });
    expect(
      await callTool(
        openTicket,
        { customer_id: 'C-1003', subject: 'x', description: 'abc', priority: 'whenever' },
        services,
      ),
    ).toMatchObject({ code: 'invalid_arguments' });
    expect(await callTool(listTickets, { customer_id: 5 }, services)).toMatchObject({ code: 'invalid_arguments' });
  });
});

describe('save_call_summary', () => {
  it('stores the summary under the call id', async () => {
    const services = tempServices();
    okResult(
      await callTool(
        saveCallSummary,
        { summary: 'Caller reported an outage; ticket opened.', key_points: ['outage'] },
        services,
        'sess_c2',
      ),
    );
    expect(services.callCenter().getCallSummary('sess_c2')).toMatchObject({
      summary: 'Caller reported an outage; ticket opened.',
      transcript: ['outage'],
    });
    expect(await callTool(saveCallSummary, { summary: 'short' }, services)).toMatchObject({
      code: 'invalid_arguments',
    });
  });
});
