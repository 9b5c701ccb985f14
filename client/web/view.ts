/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// DOM rendering of the session model. Elements are keyed by item/call id and updated in place, so a
// streaming answer changes one text node per delta and focus or selection elsewhere is never disturbed.
import type { Caption } from '../core/caption_track.ts';
import type { ConversationEntry } from '../core/conversation_log.ts';
import type { SessionModel } from '../core/session_model.ts';
import { formatTimestamp } from '../core/transcript_export.ts';

export type Status = 'idle' | 'connecting' | 'connected' | 'closed' | 'error';

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const clock = (ms: number | null) => (ms === null ? '' : formatTimestamp(ms, '.').replace(/^00:/, ''));

export class SessionView {
  private readonly captionRows = new Map<string, HTMLLIElement>();
  private readonly entryRows = new Map<ConversationEntry, HTMLLIElement>();

  setStatus(status: Status, detail = ''): void {
    const node = byId('status');
    node.dataset.state = status;
    node.textContent = detail ? `${status}: ${detail}` : status;
  }

  setError(message: string): void {
    byId('error').textContent = message;
  }

  reset(): void {
    this.captionRows.clear();
    this.entryRows.clear();
    byId('caption-list').replaceChildren();
    byId('conversation-list').replaceChildren();
    byId('caption-interim').hidden = true;
    byId('captions-empty').hidden = false;
    byId('conversation-empty').hidden = false;
    byId('interrupted').hidden = true;
    byId('latency').textContent = '–';
    byId('utterances').textContent = '0';
    this.setError('');
    this.setSpeaking(false);
  }

  setSpeaking(speaking: boolean): void {
    const node = byId('speaking');
    node.dataset.speaking = String(speaking);
    node.textContent = speaking ? 'speaking' : 'not speaking';
  }

  renderSpeech(model: SessionModel, caption: Caption | null): void {
    this.setSpeaking(model.speaking);
    byId('utterances').textContent = String(model.committedItems.length);
    if (!caption) this.renderInterim(model);
  }

  /**
   * Final captions (data-testid caption-final) and older utterances still waiting for their transcript
   * (a muted '…' row) in utterance order; the newest unfinished one is the interim line below the list.
   */
  renderCaption(caption: Caption, model: SessionModel): void {
    const interim = model.captions.interim();
    for (const c of model.captions.all()) {
      if (c === interim || c.state === 'speaking' || (c.state === 'final' && c.text === '')) continue;
      if (c !== caption && this.captionRows.has(c.itemId)) continue;
      let row = this.captionRows.get(c.itemId);
      if (!row) {
        row = el('li', { 'data-item-id': c.itemId });
        this.insertCaptionRow(row, c, model);
        this.captionRows.set(c.itemId, row);
        byId('captions-empty').hidden = true;
      }
      const final = c.state === 'final';
      if (final) row.dataset.testid = 'caption-final';
      else delete row.dataset.testid;
      row.className = final ? '' : 'pending';
      const text = final ? c.text : c.state === 'failed' ? '(no transcript)' : c.text || '…';
      row.replaceChildren(el('time', {}, `${clock(c.startMs)} – ${clock(c.endMs)}`), document.createTextNode(text));
      if (c === caption) row.scrollIntoView({ block: 'nearest' });
    }
    this.renderInterim(model);
  }

  /** Finals can arrive out of utterance order (a long utterance transcribes later): keep session order. */
  private insertCaptionRow(row: HTMLLIElement, caption: Caption, model: SessionModel): void {
    const list = byId('caption-list');
    const order = model.captions.all();
    const index = order.indexOf(caption);
    for (const later of order.slice(index + 1)) {
      const next = this.captionRows.get(later.itemId);
      if (next) return void list.insertBefore(row, next);
    }
    list.append(row);
  }

  private renderInterim(model: SessionModel): void {
    const interim = model.captions.interim();
    const node = byId('caption-interim');
    if (!interim) {
      node.hidden = true;
      return;
    }
    node.hidden = false;
    byId('captions-empty').hidden = true;
    node.dataset.itemId = interim.itemId;
    const text = interim.text !== '' ? interim.text : interim.state === 'speaking' ? 'listening…' : '…';
    node.replaceChildren(el('time', {}, clock(interim.startMs)), document.createTextNode(text));
  }

  renderEntry(entry: ConversationEntry): void {
    let row = this.entryRows.get(entry);
    if (!row) {
      row = el('li');
      this.entryRows.set(entry, row);
      byId('conversation-list').append(row);
      byId('conversation-empty').hidden = true;
    }
    switch (entry.kind) {
      case 'user':
        row.replaceChildren(
          el(
            'div',
            { class: `msg user${entry.text === null ? ' pending' : ''}` },
            entry.text ?? '(speech, no transcript yet)',
          ),
        );
        break;
      case 'assistant': {
        let bubble = row.firstElementChild as HTMLElement | null;
        if (!bubble) {
          bubble = el('div', { class: 'msg assistant', 'data-testid': 'assistant-message' });
          row.append(bubble);
        }
        bubble.dataset.state = entry.state;
        bubble.textContent = entry.text;
        break;
      }
      case 'tool_call': {
        const card = el('article', { class: 'tool-card', 'data-testid': 'tool-call', 'data-state': entry.state });
        card.append(
          el('h3', {}, entry.name || '(tool)'),
          el('div', { class: 'label' }, 'arguments'),
          el('pre', {}, prettyJson(entry.arguments)),
        );
        card.append(
          el('div', { class: 'label' }, 'result'),
          el('pre', {}, entry.output === null ? 'running…' : prettyJson(entry.output)),
        );
        row.replaceChildren(card);
        break;
      }
      case 'interruption':
        row.replaceChildren(el('div', { class: 'interruption-mark' }, '— interrupted —'));
        byId('interrupted').hidden = false;
        break;
    }
    row.scrollIntoView({ block: 'nearest' });
  }

  renderLatency(model: SessionModel): void {
    const latest = model.latency.latest();
    if (!latest) return;
    const node = byId('latency');
    node.textContent = `${Math.round(latest.ms)} ms`;
    node.title = latest.kind === 'answer' ? 'to the first word of the answer' : 'to the first caption text';
    node.dataset.ms = String(Math.round(latest.ms));
  }
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text; // still streaming, or not JSON
  }
}
