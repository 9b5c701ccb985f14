// Client side of `earshot bench server`, run as its own process: `node --import tsx server_clients_main.ts
// --url URL --clients N --seconds S [--query Q] [--audio FILE] [--arrive-over S]`. Prints the
// IngestClientsResult as JSON, or with --arrive-over (sessions arriving one by one over S seconds, for
// --admission) the AdmissionClientsResult.
import { parseArgs } from 'node:util';
import { loadBenchSpeech16k } from './bench_audio.ts';
import { runAdmissionClients } from './admission_clients.ts';
import { runIngestClients, type ClientAudioFormat } from './ingest_clients.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    clients: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '30' },
    query: { type: 'string' },
    audio: { type: 'string' },
    format: { type: 'string', default: 'pcm24-json' },
    'arrive-over': { type: 'string' },
  },
});
if (!values.url) throw new Error('--url is required');
const speech16k = await loadBenchSpeech16k(values.audio);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const arriveOverS = values['arrive-over'] === undefined ? undefined : Number(values['arrive-over']);
const result =
  arriveOverS !== undefined
    ? await runAdmissionClients({
        url: values.url,
        clients: Number(values.clients),
        seconds: Number(values.seconds),
        arriveOverS,
        speech16k,
        query: values.query,
      })
    : await runIngestClients({
        url: values.url,
        clients: Number(values.clients),
        seconds: Number(values.seconds),
        speech16k,
        query: values.query,
        format: values.format as ClientAudioFormat,
        // Up to 30 s for the last captions, leaving as soon as every commit has its transcript.
        drainMs: 30_000,
        waitForTranscripts: true,
      });
const cpu = process.cpuUsage(cpu0);
result.clients_cpu_pct = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 1000) / 10;
process.stdout.write(JSON.stringify(result));
