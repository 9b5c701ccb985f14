import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgentCatalogue } from '../../../agents/index.ts';
import { createAgentServices } from '../../../src/agent/create_services.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { agentRuntimeSettings } from '../../../src/main.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import type { ServerEvent } from '../../../src/protocol/server_events.ts';
import { RealtimeConnection } from '../../../src/session/realtime_connection.ts';
import { getSharedSileroModel } from '../../../src/vad/silero_model.ts';
import { VadBatcher } from '../../../src/vad/vad_batcher.ts';
import { ScriptedEngine } from '../../helpers/scripted_engine.ts';

// `?call_id=` sideband: a second control connection attached to a session (the WebRTC call's) sees its
// events and drives it; detaching leaves the session running. Beta sidebands get beta names.

const config = configSchema.parse({ log: { level: 'silent' } });
const services = createAgentServices(config.agent, { dataDir: mkdtempSync(join(tmpdir(), 'earshot-sideband-')) });
afterAll(() => services.close());

describe('RealtimeConnection.attachSideband', () => {
  it('fans events out to the sideband, takes its client events, and detaches cleanly', async () => {
    const batcher = new VadBatcher(await getSharedSileroModel(), { maxBatchStreams: 4 });
    const call: ServerEvent[] = [];
    const connection = new RealtimeConnection({
      config,
      log: createLogger('silent'),
      openVadStream: () => batcher.openStream(),
      transport: { send: (e) => call.push(e), pauseInput() {}, resumeInput() {} },
      agent: {
        engine: new ScriptedEngine(),
        catalogue: createAgentCatalogue(config.agent.default),
        settings: agentRuntimeSettings(config),
        services,
      },
    });
    connection.start();
    const ga: ServerEvent[] = [];
    const beta: { type: string }[] = [];
    const sideband = connection.attachSideband({ send: (e) => ga.push(e) });
    const betaSideband = connection.attachSideband({ send: (e) => beta.push(e as { type: string }) }, 'beta');
    sideband.handleText(
      JSON.stringify({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
      }),
    );
    sideband.handleText(JSON.stringify({ type: 'response.create' }));
    await connection.agentRuntime!.whenIdle();
    const types = (events: { type: string }[]) => events.map((e) => e.type);
    expect(types(call)).toContain('response.done');
    expect(types(ga)).toEqual(types(call).slice(1)); // all but session.created, sent before attaching
    expect(types(beta)).toContain('response.text.delta');
    expect(types(beta)).not.toContain('response.output_text.delta');
    sideband.handleBinary(new Uint8Array(4));
    expect(ga.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_BINARY_NOT_ALLOWED' } });
    sideband.dispose();
    betaSideband.dispose();
    const before = ga.length;
    connection.handleText(JSON.stringify({ type: 'session.update', session: {} }));
    expect(ga.length).toBe(before);
    expect(call.at(-1)!.type).toBe('session.updated');
    connection.dispose();
  });
});
