/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The page's two ways to reach Earshot. Both deliver server events as parsed objects and accept client
// events; they differ in how the microphone travels:
// - WebRTC (default, like OpenAI's browser guide): the mic track goes as Opus over RTP, events on the
//   data channel `oai-events`; the SDP offer is POSTed to /v1/realtime/calls.
// - WebSocket: an AudioWorklet turns the mic into 16 kHz PCM16 sent as binary frames (Earshot's
//   extension), after a session.update that declares audio/pcm at 16000 Hz.
import type { ServerEvent } from '../../src/protocol/server_events.ts';
import { realtimeCallsUrl, realtimeWebSocketUrl, sessionUpdateFor, type SessionSetup } from '../core/session_setup.ts';

export interface ConnectionCallbacks {
  onEvent(event: ServerEvent): void;
  /** Every client event the page sends (the event inspector shows both directions). */
  onSend?(event: { type: string }): void;
  onClose(reason: string): void;
}

export interface LiveConnection {
  readonly transport: SessionSetup['transport'];
  send(event: { type: string; [key: string]: unknown }): void;
  /** Mutes the microphone (its track sends silence); the session stays open. */
  setMuted(muted: boolean): void;
  close(): void;
}

function setTracksEnabled(stream: MediaStream | null, enabled: boolean): void {
  for (const track of stream?.getAudioTracks() ?? []) track.enabled = enabled;
}

export interface ConnectOptions {
  setup: SessionSetup;
  /** Page origin or server base URL. */
  baseUrl: string;
  apiKey?: string;
  /** Microphone device id (the page's picker); default device when absent. */
  microphoneId?: string;
  /** Called with the microphone's stream once it is open (the page's level meter), and the capture's context. */
  onMicrophone?(stream: MediaStream, context?: AudioContext): void;
  /** WebRTC: the server's audio track (spoken answers), with the connection for its statistics. */
  onRemoteAudio?(stream: MediaStream, pc: RTCPeerConnection): void;
  callbacks: ConnectionCallbacks;
}

/**
 * Raw microphone audio: the server runs its own VAD and model, Earshot plays no audio (nothing to
 * cancel), and the browser's noise suppression and gain control reshape speech onsets and offsets.
 */
const MIC_CONSTRAINTS: MediaTrackConstraints = {
  channelCount: 1,
  echoCancellation: false,
  noiseSuppression: false,
  autoGainControl: false,
};
/** ICE gathering on loopback/LAN finishes in a few ms; without STUN it never needs long. */
const ICE_GATHERING_TIMEOUT_MS = 2000;

/** The microphone: the chosen input device when there is one, else the default. */
export async function openMicrophone(deviceId?: string): Promise<MediaStream> {
  const audio: MediaTrackConstraints = deviceId
    ? { ...MIC_CONSTRAINTS, deviceId: { exact: deviceId } }
    : MIC_CONSTRAINTS;
  return navigator.mediaDevices.getUserMedia({ audio, video: false });
}

export async function connectWebSocket(opts: ConnectOptions): Promise<LiveConnection> {
  const protocols = ['realtime', ...(opts.apiKey ? [`openai-insecure-api-key.${opts.apiKey}`] : [])];
  const ws = new WebSocket(realtimeWebSocketUrl(opts.baseUrl, opts.setup), protocols);
  ws.binaryType = 'arraybuffer';
  let capture: { stop(): void } | null = null;
  let closed = false;
  let muted = false;
  const shutdown = (reason: string) => {
    if (closed) return;
    closed = true;
    capture?.stop();
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'client closed');
    opts.callbacks.onClose(reason);
  };
  const sessionReady = new Promise<void>((resolve, reject) => {
    let sawCreated = false;
    ws.addEventListener('message', (message) => {
      if (typeof message.data !== 'string') return;
      const event = JSON.parse(message.data) as ServerEvent;
      opts.callbacks.onEvent(event);
      if (event.type === 'session.created' && !sawCreated) {
        sawCreated = true;
        const update = sessionUpdateFor(opts.setup);
        opts.callbacks.onSend?.(update);
        ws.send(JSON.stringify(update));
      } else if (event.type === 'session.updated' && sawCreated) {
        resolve();
      } else if (event.type === 'error' && !capture) {
        reject(new Error(`${event.error.code}: ${event.error.message}`));
      }
    });
    ws.addEventListener('error', () => reject(new Error('WebSocket error')));
    ws.addEventListener('close', (e) => {
      reject(new Error(`WebSocket closed (${e.code}${e.reason ? ` ${e.reason}` : ''})`));
      shutdown(`closed by the server (${e.code}${e.reason ? `: ${e.reason}` : ''})`);
    });
  });
  try {
    await sessionReady;
    // The mic starts only once the session takes 16 kHz PCM, so no audio is sent in the wrong format.
    capture = await startPcmCapture(opts, (frame) => {
      if (ws.readyState === WebSocket.OPEN && !muted) ws.send(frame);
    });
  } catch (err) {
    shutdown((err as Error).message);
    throw err;
  }
  return {
    transport: 'websocket',
    send: (event) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      opts.callbacks.onSend?.(event);
      ws.send(JSON.stringify(event));
    },
    // Muted frames are not sent at all: the server's audio clock pauses with them.
    setMuted: (value) => (muted = value),
    close: () => shutdown('disconnected'),
  };
}

async function startPcmCapture(opts: ConnectOptions, onFrame: (pcm16: ArrayBuffer) => void): Promise<{ stop(): void }> {
  const stream = await openMicrophone(opts.microphoneId);
  const context = new AudioContext();
  try {
    await context.audioWorklet.addModule(new URL('./pcm_capture_worklet.js', document.baseURI).toString());
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, 'earshot-pcm-capture', {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: 1,
    });
    node.port.onmessage = (message: MessageEvent<ArrayBuffer>) => onFrame(message.data);
    source.connect(node);
    if (context.state === 'suspended') await context.resume();
    opts.onMicrophone?.(stream, context);
  } catch (err) {
    stream.getTracks().forEach((t) => t.stop());
    void context.close();
    throw err;
  }
  return {
    stop: () => {
      stream.getTracks().forEach((t) => t.stop());
      void context.close();
    },
  };
}

export async function connectWebRtc(opts: ConnectOptions): Promise<LiveConnection> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  const stream = await openMicrophone(opts.microphoneId);
  opts.onMicrophone?.(stream);
  let closed = false;
  const shutdown = (reason: string) => {
    if (closed) return;
    closed = true;
    stream.getTracks().forEach((t) => t.stop());
    pc.close();
    opts.callbacks.onClose(reason);
  };
  try {
    for (const track of stream.getAudioTracks()) pc.addTrack(track, stream);
    const channel = pc.createDataChannel('oai-events');
    const opened = new Promise<void>((resolve, reject) => {
      channel.addEventListener('open', () => resolve(), { once: true });
      channel.addEventListener('close', () => {
        reject(new Error('the data channel closed'));
        shutdown('the server closed the call');
      });
    });
    channel.addEventListener('message', (message) => {
      if (typeof message.data === 'string') opts.callbacks.onEvent(JSON.parse(message.data) as ServerEvent);
    });
    pc.addEventListener('track', (e) => {
      if (e.track.kind === 'audio') opts.onRemoteAudio?.(e.streams[0] ?? new MediaStream([e.track]), pc);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') shutdown('the WebRTC connection failed');
    });
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringDone(pc);
    const headers: Record<string, string> = { 'Content-Type': 'application/sdp' };
    if (opts.apiKey) headers.Authorization = `Bearer ${opts.apiKey}`;
    const response = await fetch(realtimeCallsUrl(opts.baseUrl, opts.setup), {
      method: 'POST',
      body: pc.localDescription!.sdp,
      headers,
    });
    if (!response.ok) throw new Error(`POST /v1/realtime/calls: HTTP ${response.status} ${await response.text()}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    await opened;
    const update = sessionUpdateFor(opts.setup);
    opts.callbacks.onSend?.(update);
    channel.send(JSON.stringify(update));
    return {
      transport: 'webrtc',
      send: (event) => {
        if (channel.readyState !== 'open') return;
        opts.callbacks.onSend?.(event);
        channel.send(JSON.stringify(event));
      },
      // A disabled track sends silence, so the server keeps its clock and hears no speech.
      setMuted: (value) => setTracksEnabled(stream, !value),
      close: () => shutdown('disconnected'),
    };
  } catch (err) {
    shutdown((err as Error).message);
    throw err;
  }
}

/** The server answers one offer with no trickle ICE, so the offer must carry the candidates. */
function iceGatheringDone(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ICE_GATHERING_TIMEOUT_MS);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
