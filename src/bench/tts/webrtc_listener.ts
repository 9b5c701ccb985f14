// A werift peer that calls Earshot as a browser does (POST the offer, read the answer, events on the
// `oai-events` channel) with a sendrecv audio transceiver, and records every RTP packet of the server's
// audio track with its arrival time: what the benchmark and the tests measure spoken answers with.
import { RTCPeerConnection, useOPUS, type RTCDataChannel } from 'werift';

export interface ReceivedRtp {
  /** performance.now() at arrival, ms. */
  atMs: number;
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
  payload: Uint8Array;
}

export interface ListenerEvent {
  type: string;
  [key: string]: unknown;
}

export class WebRtcListener {
  readonly packets: ReceivedRtp[] = [];
  readonly events: ListenerEvent[] = [];
  callId = '';
  answerSdp = '';
  private readonly waiters: (() => void)[] = [];

  private constructor(
    readonly pc: RTCPeerConnection,
    readonly channel: RTCDataChannel,
  ) {
    channel.onMessage.subscribe((data) => {
      this.events.push(JSON.parse(typeof data === 'string' ? data : data.toString('utf8')) as ListenerEvent);
      this.notify();
    });
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        const { sequenceNumber, timestamp, marker } = rtp.header;
        this.packets.push({
          atMs: performance.now(),
          sequenceNumber,
          timestamp,
          marker,
          payload: new Uint8Array(rtp.payload),
        });
        this.notify();
      });
    });
  }

  /** Calls `${baseUrl}/v1/realtime/calls` and waits for the events channel and session.created. */
  static async connect(
    baseUrl: string,
    options: { headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<WebRtcListener> {
    const pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      codecs: { audio: [useOPUS()] },
    });
    const listener = new WebRtcListener(pc, pc.createDataChannel('oai-events'));
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    await pc.setLocalDescription(await pc.createOffer()); // resolves once candidates are gathered
    const response = await fetch(`${baseUrl}/v1/realtime/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', ...options.headers },
      body: pc.localDescription!.sdp,
    });
    if (response.status !== 201) {
      await pc.close();
      throw new Error(`call refused: ${response.status} ${await response.text()}`);
    }
    listener.callId = (response.headers.get('location') ?? '').split('/').pop() ?? '';
    listener.answerSdp = await response.text();
    await pc.setRemoteDescription({ type: 'answer', sdp: listener.answerSdp });
    await listener.waitUntil(
      () => listener.events.some((e) => e.type === 'session.created'),
      options.timeoutMs ?? 15_000,
      'session.created',
    );
    return listener;
  }

  send(event: Record<string, unknown>): void {
    this.channel.send(JSON.stringify(event));
  }

  /** Resolves once predicate() holds (checked on every packet and event). */
  waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
      const check = () => {
        if (!predicate()) {
          this.waiters.push(check);
          return;
        }
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  async close(): Promise<void> {
    if (this.channel.readyState === 'open') this.channel.close();
    await this.pc.close();
  }

  private notify(): void {
    for (const check of this.waiters.splice(0)) check();
  }
}
