// A werift peer that calls Earshot the way OpenAI's WebRTC clients do (POST the offer, read the answer and
// the Location header, events on the `oai-events` channel) and sends the microphone as Opus RTP packets it
// is given, in any order, with any of them dropped: WebRTC tested without a browser.
import { RTCPeerConnection, RtpHeader, RtpPacket, useOPUS, type RTCDataChannel, type RTCRtpTransceiver } from 'werift';
import { EventRecorder, type ReceivedEvent } from './event_recorder.ts';
import { OPUS_FRAME_TICKS } from './webrtc_opus_fixtures.ts';

export interface WebRtcClientOptions {
  /** Query string for the calls URL, e.g. `?intent=transcription`. */
  query?: string;
  headers?: Record<string, string>;
  /** Offer an audio track (default true). */
  audio?: boolean;
  /** Audio sections to offer (default 1): a client with two microphones. */
  audioTracks?: number;
  /** Post the offer before ICE gathering, with no candidates, as @openai/agents-realtime does. */
  candidateless?: boolean;
}

export interface SendPlan {
  /** Packet indices in the order they are put on the wire (default 0..n-1); indices left out are lost. */
  order?: number[];
  /** Packets per burst and the pause between bursts: the default sends 20x faster than real time. */
  burst?: number;
  intervalMs?: number;
}

/** Starting near the top of both ranges exercises sequence and timestamp wrap-around in every test. */
export const FIRST_SEQ = 65_500;
export const FIRST_TIMESTAMP = 4_294_900_000;

export class WebRtcTestClient extends EventRecorder {
  callId = '';
  location = '';
  /** Offer posted -> events channel open, in ms (client side). */
  connectMs = 0;

  private constructor(
    readonly pc: RTCPeerConnection,
    readonly channel: RTCDataChannel,
    readonly transceiver: RTCRtpTransceiver | null,
    /** Every audio transceiver offered, `transceiver` first. */
    readonly audioTransceivers: RTCRtpTransceiver[] = transceiver ? [transceiver] : [],
  ) {
    super();
    channel.onMessage.subscribe((data) => {
      this.record(JSON.parse(typeof data === 'string' ? data : data.toString('utf8')) as ReceivedEvent);
    });
  }

  /** A peer with its offer, not yet posted. */
  static async prepare(options: WebRtcClientOptions = {}): Promise<{ client: WebRtcTestClient; offerSdp: string }> {
    const pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      codecs: { audio: [useOPUS()] },
    });
    const channel = pc.createDataChannel('oai-events');
    const audioTransceivers =
      options.audio === false
        ? []
        : Array.from({ length: options.audioTracks ?? 1 }, () => pc.addTransceiver('audio', { direction: 'sendonly' }));
    const transceiver = audioTransceivers[0] ?? null;
    const offer = await pc.createOffer();
    if (options.candidateless) {
      void pc.setLocalDescription(offer);
      return { client: new WebRtcTestClient(pc, channel, transceiver, audioTransceivers), offerSdp: offer.sdp };
    }
    await pc.setLocalDescription(offer); // resolves once candidates are gathered
    return {
      client: new WebRtcTestClient(pc, channel, transceiver, audioTransceivers),
      offerSdp: pc.localDescription!.sdp,
    };
  }

  /** Calls the server and waits for the events channel and session.created. */
  static async connect(baseUrl: string, options: WebRtcClientOptions = {}): Promise<WebRtcTestClient> {
    const { client, offerSdp } = await WebRtcTestClient.prepare(options);
    const started = performance.now();
    const response = await fetch(`${baseUrl}/v1/realtime/calls${options.query ?? ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', ...options.headers },
      body: offerSdp,
    });
    if (response.status !== 201) {
      await client.pc.close();
      throw new Error(`call refused: ${response.status} ${await response.text()}`);
    }
    client.location = response.headers.get('location') ?? '';
    client.callId = client.location.split('/').pop() ?? '';
    await client.pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    await client.waitOpen(10_000);
    client.connectMs = performance.now() - started;
    await client.waitFor((e) => e.type === 'session.created');
    return client;
  }

  waitOpen(timeoutMs: number): Promise<void> {
    if (this.channel.readyState === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('events channel did not open')), timeoutMs);
      this.channel.stateChanged.subscribe((state) => {
        if (state === 'open') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  send(event: Record<string, unknown>): void {
    this.channel.send(JSON.stringify(event));
  }

  /** Puts Opus packets on the wire as RTP: packet i has sequence FIRST_SEQ+i and timestamp FIRST_TIMESTAMP+960i. */
  async sendPackets(packets: Uint8Array[], plan: SendPlan = {}, track = 0): Promise<void> {
    const transceiver = this.audioTransceivers[track];
    if (!transceiver) throw new Error(`this client offered no audio track ${track}`);
    const order = plan.order ?? packets.map((_, i) => i);
    const burst = plan.burst ?? 10;
    const intervalMs = plan.intervalMs ?? 10;
    for (let start = 0; start < order.length; start += burst) {
      for (const index of order.slice(start, start + burst)) {
        const header = new RtpHeader({
          sequenceNumber: (FIRST_SEQ + index) & 0xffff,
          timestamp: (FIRST_TIMESTAMP + index * OPUS_FRAME_TICKS) >>> 0,
          payloadType: 111,
          marker: index === 0,
        });
        await transceiver.sender.sendRtp(new RtpPacket(header, Buffer.from(packets[index])));
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  /** Hangs up like a browser tab: closes the events channel (an SCTP stream reset the server sees), then the connection. */
  async close(): Promise<void> {
    if (this.channel.readyState === 'open') {
      this.channel.close();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await this.pc.close();
  }

  /** Disappears without a word (a crashed tab or a dropped network): nothing more reaches the server. */
  async vanish(): Promise<void> {
    await this.pc.close();
  }
}
