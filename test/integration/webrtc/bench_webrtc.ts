// Benchmark (not a test): offer-to-connected time of werift-to-werift calls on 127.0.0.1 and the cost of
// decoding 20 ms Opus speech packets (libopus WebAssembly, straight to 16 kHz).
// Run: npx tsx test/integration/webrtc/bench_webrtc.ts
import { OpusPacketDecoder } from '../../../src/transport/webrtc/opus_packet_decoder.ts';
import { CARD_CLIPS, LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { WebRtcTestClient } from '../../helpers/webrtc_client.ts';
import { encodeOpusPackets } from '../../helpers/webrtc_opus_fixtures.ts';
import { startWebRtcTestServer } from '../../helpers/webrtc_server.ts';

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

const fixture = placeWithGaps({
  clips: [LIBRIVOX_CLIPS[0], CARD_CLIPS[1]],
  gapsMs: [700, 1200, 1500],
  noiseLevel: 0.002,
});
for (const bitrateBps of [32_000, 64_000]) {
  const packets = await encodeOpusPackets(fixture.samples16k, { bitrateBps });
  const decoder = await OpusPacketDecoder.create();
  for (const p of packets) decoder.decode(p); // warm-up
  const rounds = 20;
  const started = performance.now();
  for (let r = 0; r < rounds; r++) for (const p of packets) decoder.decode(p);
  const perPacketUs = ((performance.now() - started) * 1000) / (rounds * packets.length);
  const plcStarted = performance.now();
  for (let r = 0; r < 2000; r++) decoder.conceal(320);
  const plcUs = ((performance.now() - plcStarted) * 1000) / 2000;
  decoder.free();
  console.log(
    `decode ${bitrateBps / 1000} kbps speech: ${perPacketUs.toFixed(1)} us per 20 ms packet (${((perPacketUs / 20_000) * 100).toFixed(2)} % of a core per call); PLC ${plcUs.toFixed(1)} us per 20 ms`,
  );
}

const server = await startWebRtcTestServer({ webrtc: { ice_gather_interfaces: process.env.GATHER !== '0' } });
const answer: number[] = [];
const serverConnect: number[] = [];
const clientConnect: number[] = [];
for (let i = 0; i < 12; i++) {
  const client = await WebRtcTestClient.connect(server.baseUrl);
  const timings = server.route.getCall(client.callId)!.timings;
  if (i >= 2) {
    // the first calls pay for JIT and WebAssembly compilation
    answer.push(timings.answerMs!);
    serverConnect.push(timings.connectMs!);
    clientConnect.push(client.connectMs);
  }
  await client.close();
  await server.waitDisposed(client.callId);
}
console.log(`offer -> answer (server): median ${fmt(percentile(answer, 0.5))}, max ${fmt(Math.max(...answer))}`);
console.log(
  `offer -> events channel open (server): median ${fmt(percentile(serverConnect, 0.5))}, max ${fmt(Math.max(...serverConnect))}`,
);
console.log(
  `POST -> session.created on the channel (client): median ${fmt(percentile(clientConnect, 0.5))}, max ${fmt(Math.max(...clientConnect))}`,
);
await server.close();
