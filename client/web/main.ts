/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Entry point of the browser client: reads the controls (and ?agent= ?mode= ?transport= ?lang= ?to= from
// the page URL), connects, feeds server events to the SessionModel and renders them. An API key typed in
// (or given as ?key=, which is removed from the address bar at once) is exchanged for an ephemeral key.
import type { ServerEvent } from '../../src/protocol/server_events.ts';
import { SessionModel } from '../core/session_model.ts';
import {
  DEFAULT_AGENTS,
  isClientMode,
  outputModalities,
  type ClientMode,
  type ClientTransport,
  type SessionSetup,
} from '../core/session_setup.ts';
import { EXPORT_MIME, exportCaptions, type ExportFormat } from '../core/transcript_export.ts';
import { listMicrophones, meterLevel } from './audio_input.ts';
import { connectWebRtc, connectWebSocket, type LiveConnection } from './connections.ts';
import { transcribeFile, wireFileDrop } from './file_transcription.ts';
import { EventInspector } from './inspector.ts';
import { fetchReadiness, mintEphemeralKey, readinessText } from './server_access.ts';
import { Speaker } from './speaker.ts';
import { byId, SessionView } from './view.ts';

/** How often the readiness badge asks /readyz, ms. */
const READINESS_POLL_MS = 5000;

/** Events kept for inspection (tests, the console): the most recent ones only. */
const MAX_DEBUG_EVENTS = 2000;

const view = new SessionView();
let model = new SessionModel(() => performance.now());
let connection: LiveConnection | null = null;
let connecting = false;
const debugEvents: ServerEvent[] = [];
(window as unknown as { earshot: unknown }).earshot = {
  events: debugEvents,
  get model() {
    return model;
  },
};

const transportSelect = byId<HTMLSelectElement>('transport');
const agentSelect = byId<HTMLSelectElement>('agent');
const modeSelect = byId<HTMLSelectElement>('mode');
const languageInput = byId<HTMLInputElement>('language');
const translateInput = byId<HTMLInputElement>('translate-to');
const micSelect = byId<HTMLSelectElement>('mic');
const apiKeyInput = byId<HTMLInputElement>('api-key');
const instructionsInput = byId<HTMLTextAreaElement>('instructions');
const silenceInput = byId<HTMLInputElement>('silence-ms');
const thresholdInput = byId<HTMLInputElement>('vad-threshold');
const textInput = byId<HTMLInputElement>('text-input');
const textSend = byId<HTMLButtonElement>('text-send');
const muteButton = byId<HTMLButtonElement>('mute');
const pttBox = byId<HTMLInputElement>('ptt');
const speaker = new Speaker(byId<HTMLButtonElement>('speaker'), byId<HTMLAudioElement>('speaker-audio'));
const inspector = new EventInspector(
  byId<HTMLOListElement>('event-list'),
  byId('event-count'),
  byId<HTMLInputElement>('event-filter'),
);
let meter: { stop(): void } | null = null;
let muted = false;
const connectButton = byId<HTMLButtonElement>('connect');
const disconnectButton = byId<HTMLButtonElement>('disconnect');
const params = new URLSearchParams(location.search);
// A long-lived key must not stay in the address bar, history or a shared screenshot: keep it in the field.
if (params.has('key')) {
  apiKeyInput.value = params.get('key') ?? '';
  params.delete('key');
  history.replaceState(null, '', `${location.pathname}${params.size > 0 ? `?${params}` : ''}`);
}

function applyUrlParams(): void {
  const transport = params.get('transport');
  if (transport === 'webrtc' || transport === 'websocket') transportSelect.value = transport;
  const mode = params.get('mode');
  if (mode && isClientMode(mode)) modeSelect.value = mode;
  languageInput.value = params.get('lang') ?? '';
  if (params.get('to')) translateInput.value = params.get('to')!;
  syncModeControls();
}

function syncModeControls(): void {
  byId('translate-label').hidden = modeSelect.value !== 'translate';
}

/** The server's agent catalogue when it has one (`GET /v1/agents`), else the built-in list. */
async function loadAgents(): Promise<void> {
  let names: string[] = [...DEFAULT_AGENTS];
  try {
    const response = await fetch('/v1/agents', { headers: { Accept: 'application/json' } });
    if (response.ok) names = parseAgentList(await response.json()) ?? names;
  } catch {
    // No catalogue endpoint: keep the defaults.
  }
  const wanted = params.get('agent');
  if (wanted && !names.includes(wanted)) names.unshift(wanted);
  agentSelect.replaceChildren(...names.map((name) => new Option(name, name)));
  if (wanted) agentSelect.value = wanted;
}

function parseAgentList(body: unknown): string[] | null {
  const list = Array.isArray(body)
    ? body
    : ((body as { agents?: unknown; data?: unknown })?.agents ?? (body as { data?: unknown })?.data);
  if (!Array.isArray(list)) return null;
  const names = list
    .map((a: unknown) =>
      typeof a === 'string' ? a : ((a as { name?: unknown; id?: unknown })?.name ?? (a as { id?: unknown })?.id),
    )
    .filter((n): n is string => typeof n === 'string' && n !== '');
  return names.length > 0 ? names : null;
}

function currentSetup(): SessionSetup {
  return {
    agent: agentSelect.value,
    mode: modeSelect.value as ClientMode,
    language: languageInput.value.trim() || undefined,
    translateTo: translateInput.value.trim() || undefined,
    transport: transportSelect.value as ClientTransport,
    instructions: instructionsInput.value.trim() || undefined,
    silenceDurationMs: numberOrUndefined(silenceInput.value),
    vadThreshold: numberOrUndefined(thresholdInput.value),
    speaker: speaker.isOn,
  };
}

/** The speaker toggle: mutes the call's audio and, on a live agent call, asks for spoken or text answers. */
function toggleSpeaker(): void {
  speaker.setOn(!speaker.isOn);
  const setup = currentSetup();
  if (connection && setup.mode === 'agent' && connection.transport === 'webrtc') {
    connection.send({
      type: 'session.update',
      session: { type: 'realtime', output_modalities: outputModalities(setup) },
    });
  }
}

function numberOrUndefined(text: string): number | undefined {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

function setConnectedControls(live: boolean): void {
  connectButton.disabled = live || connecting;
  disconnectButton.disabled = !live && !connecting;
  for (const control of [
    transportSelect,
    agentSelect,
    modeSelect,
    languageInput,
    translateInput,
    micSelect,
    apiKeyInput,
    instructionsInput,
    silenceInput,
    thresholdInput,
  ]) {
    control.disabled = live || connecting;
  }
  const canType = live && modeSelect.value === 'agent';
  textInput.disabled = !canType;
  textSend.disabled = !canType;
  muteButton.disabled = !live;
  if (!live) setMuted(false);
}

function setMuted(value: boolean): void {
  muted = value;
  connection?.setMuted(value);
  muteButton.setAttribute('aria-pressed', String(value));
  muteButton.textContent = value ? 'Unmute' : 'Mute';
}

function sendText(): void {
  const text = textInput.value.trim();
  if (!connection || text === '') return;
  connection.send({
    type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  });
  connection.send({ type: 'response.create' });
  textInput.value = '';
  textInput.focus();
}

async function copyTranscript(): Promise<void> {
  const text = exportCaptions(model.captions.finals(), 'txt');
  try {
    await navigator.clipboard.writeText(text);
    view.setError('');
    byId('copy-transcript').textContent = 'Copied';
    setTimeout(() => (byId('copy-transcript').textContent = 'Copy'), 1500);
  } catch {
    view.setError('The browser refused clipboard access.');
  }
}

async function pollReadiness(): Promise<void> {
  const readiness = await fetchReadiness();
  const badge = byId('readiness');
  badge.dataset.status = readiness.status;
  badge.textContent = readinessText(readiness);
}

function onEvent(event: ServerEvent): void {
  inspector.record('server', event);
  debugEvents.push(event);
  if (debugEvents.length > MAX_DEBUG_EVENTS) debugEvents.splice(0, debugEvents.length - MAX_DEBUG_EVENTS);
  const change = model.apply(event);
  if (change.speech) view.renderSpeech(model, change.caption);
  if (change.caption) view.renderCaption(change.caption, model);
  for (const entry of change.entries) view.renderEntry(entry);
  if (change.latency) view.renderLatency(model);
  if (change.error && model.lastError) view.setError(`${model.lastError.code}: ${model.lastError.message}`);
}

async function connect(): Promise<void> {
  if (connection || connecting) return;
  const setup = currentSetup();
  if (setup.mode === 'translate' && !setup.translateTo) {
    view.setError('Choose a language to translate to.');
    translateInput.focus();
    return;
  }
  model = new SessionModel(() => performance.now());
  debugEvents.length = 0;
  inspector.clear();
  view.reset();
  connecting = true;
  setConnectedControls(false);
  view.setStatus('connecting', setup.transport === 'webrtc' ? 'WebRTC' : 'WebSocket');
  const open = setup.transport === 'webrtc' ? connectWebRtc : connectWebSocket;
  try {
    const apiKey = apiKeyInput.value.trim();
    connection = await open({
      setup,
      baseUrl: location.href,
      apiKey: apiKey ? await mintEphemeralKey(apiKey) : undefined,
      microphoneId: micSelect.value || undefined,
      onMicrophone: (stream, context) => {
        meter?.stop();
        meter = meterLevel(stream, byId<HTMLMeterElement>('mic-level'), context);
        void listMicrophones(micSelect);
      },
      onRemoteAudio: (stream, pc) => speaker.attach(stream, pc),
      callbacks: {
        onEvent,
        onSend: (event) => inspector.record('client', event),
        onClose: (reason) => {
          const wasLive = connection !== null;
          connection = null;
          meter?.stop();
          meter = null;
          speaker.detach();
          setConnectedControls(false);
          if (wasLive)
            view.setStatus(reason === 'disconnected' ? 'closed' : 'error', reason === 'disconnected' ? '' : reason);
        },
      },
    });
    view.setStatus('connected', connection.transport === 'webrtc' ? 'WebRTC' : 'WebSocket');
    if (pttBox.checked) setMuted(true);
  } catch (err) {
    connection = null;
    view.setStatus('error', (err as Error).message);
  } finally {
    connecting = false;
    setConnectedControls(connection !== null);
    (connection ? disconnectButton : connectButton).focus();
  }
}

function disconnect(): void {
  connection?.close();
  connection = null;
  meter?.stop();
  meter = null;
  setConnectedControls(false);
  connectButton.focus();
}

function download(format: ExportFormat): void {
  const blob = new Blob([exportCaptions(model.captions.finals(), format)], { type: EXPORT_MIME[format] });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `earshot-captions-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function setLarge(on: boolean): void {
  document.body.classList.toggle('large', on);
  byId('large').setAttribute('aria-pressed', String(on));
  if (on) byId('captions').focus();
}

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement
  );
}

function wireControls(): void {
  byId<HTMLFormElement>('controls').addEventListener('submit', (e) => {
    e.preventDefault();
    void connect();
  });
  disconnectButton.addEventListener('click', disconnect);
  modeSelect.addEventListener('change', syncModeControls);
  byId('download-vtt').addEventListener('click', () => download('vtt'));
  byId('download-srt').addEventListener('click', () => download('srt'));
  byId('download-json').addEventListener('click', () => download('json'));
  byId('large').addEventListener('click', () => setLarge(!document.body.classList.contains('large')));
  document.addEventListener('keydown', (e) => {
    if (e.altKey && e.key.toLowerCase() === 'c') {
      e.preventDefault();
      if (connection || connecting) disconnect();
      else void connect();
    } else if (e.key === 'Escape' && document.body.classList.contains('large')) {
      setLarge(false);
      byId('large').focus();
    } else if (!e.altKey && !e.ctrlKey && !e.metaKey && e.key.toLowerCase() === 'l' && !isTyping(e.target)) {
      setLarge(!document.body.classList.contains('large'));
    }
  });
  window.addEventListener('pagehide', () => connection?.close());
  byId<HTMLFormElement>('text-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sendText();
  });
  muteButton.addEventListener('click', () => setMuted(!muted));
  byId('speaker').addEventListener('click', toggleSpeaker);
  byId('copy-transcript').addEventListener('click', () => void copyTranscript());
  wireFileDrop(
    byId<HTMLInputElement>('file-input'),
    (file) =>
      void transcribeFile(
        file,
        { list: byId<HTMLOListElement>('file-segments'), status: byId('file-status') },
        apiKeyInput.value.trim() || undefined,
      ),
  );
  pttBox.addEventListener('change', () => connection && setMuted(pttBox.checked));
  // Push to talk: Space held (outside text fields) opens the microphone; released, it mutes again.
  document.addEventListener('keydown', (e) => {
    if (pttBox.checked && e.code === 'Space' && !e.repeat && !isTyping(e.target) && connection) {
      e.preventDefault();
      setMuted(false);
    }
  });
  document.addEventListener('keyup', (e) => {
    if (pttBox.checked && e.code === 'Space' && connection) setMuted(true);
  });
}

applyUrlParams();
wireControls();
setConnectedControls(false);
void loadAgents();
void listMicrophones(micSelect);
void pollReadiness();
setInterval(() => void pollReadiness(), READINESS_POLL_MS);
