// The flooding client of `earshot bench fairness`, in a process of its own so that building, masking and
// sending its megabyte frames does not run on the server's event loop. Prints one JSON line per settled
// item ({"settled","accepted","errors"}) on stdout.
import WebSocket from 'ws';

const arg = (name: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`--${name} is required`);
  return process.argv[i + 1];
};
const url = arg('url');
const key = arg('key');
const items = Number(arg('items'));
const bytes = Number(arg('bytes'));

let settled = 0;
let accepted = 0;
const errors: Record<string, number> = {};
const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` }, maxPayload: 0 });
ws.on('message', (data) => {
  const event = JSON.parse(String(data)) as { type: string; error?: { code: string; event_id?: string } };
  if (event.type === 'conversation.item.added' || event.type === 'conversation.item.created') accepted++;
  else if (!(event.type === 'error' && event.error?.event_id?.startsWith('flood_'))) return;
  else errors[event.error.code] = (errors[event.error.code] ?? 0) + 1;
  settled++;
  process.stdout.write(`${JSON.stringify({ settled, accepted, errors })}\n`);
  if (settled >= items) ws.close();
});
ws.on('open', async () => {
  const line = 'the quick brown fox jumps over the lazy dog\n';
  const text = line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes);
  for (let i = 0; i < items; i++) {
    const event = {
      type: 'conversation.item.create',
      event_id: `flood_${i}`,
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
    };
    await new Promise<void>((resolve) => ws.send(JSON.stringify(event), () => resolve()));
  }
});
ws.on('error', (err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
