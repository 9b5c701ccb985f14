// The OpenAI Realtime (GA) wire protocol: client event schemas, server event types and builders, the
// codec and id generation. Depends on nothing of ours but src/errors.ts, and on nothing Node-specific,
// so the browser client can import it too.
export * from './session_schema.ts';
export * from './item_schema.ts';
export * from './client_events.ts';
export * from './server_session.ts';
export * from './server_items.ts';
export * from './server_events.ts';
export * from './ids.ts';
export * from './base64.ts';
export * from './codec.ts';
export * from './beta_dialect.ts';
