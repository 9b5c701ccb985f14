/// <reference lib="dom" />
// A recording dropped on the page (or chosen with the file button) is transcribed through the server's
// OpenAI-compatible endpoint (POST /v1/audio/transcriptions, verbose_json: one segment per utterance the
// server's VAD finds) and shown as timed lines, without opening a live session.
import { formatTimestamp } from '../core/transcript_export.ts';

interface Segment {
  start: number;
  end: number;
  text: string;
}

export interface FileTranscriptionView {
  list: HTMLOListElement;
  status: HTMLElement;
}

export async function transcribeFile(
  file: File,
  view: FileTranscriptionView,
  apiKey: string | undefined,
): Promise<void> {
  view.status.dataset.state = 'working';
  view.status.textContent = `Transcribing ${file.name}...`;
  view.list.replaceChildren();
  const form = new FormData();
  form.append('file', file, file.name);
  form.append('model', 'phi-4-multimodal');
  form.append('response_format', 'verbose_json');
  try {
    const response = await fetch('/v1/audio/transcriptions', {
      method: 'POST',
      body: form,
      headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
    });
    const body = (await response.json()) as { segments?: Segment[]; error?: { code?: string; message?: string } };
    if (!response.ok) throw new Error(`${body.error?.code ?? `HTTP ${response.status}`}: ${body.error?.message ?? ''}`);
    for (const segment of body.segments ?? []) {
      const row = document.createElement('li');
      const time = document.createElement('time');
      time.textContent = `${formatTimestamp(segment.start * 1000, '.')} - ${formatTimestamp(segment.end * 1000, '.')}`;
      row.append(time, document.createTextNode(segment.text));
      view.list.append(row);
    }
    view.status.dataset.state = 'done';
    view.status.textContent = `${file.name}: ${body.segments?.length ?? 0} utterance(s)`;
  } catch (err) {
    view.status.dataset.state = 'error';
    view.status.textContent = `${file.name}: ${(err as Error).message}`;
  }
}

/** Lets files be dropped anywhere on the page as well as chosen with the input. */
export function wireFileDrop(input: HTMLInputElement, onFile: (file: File) => void): void {
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) onFile(file);
    input.value = '';
  });
  document.addEventListener('dragover', (e) => {
    if (e.dataTransfer?.types.includes('Files')) {
      e.preventDefault();
      document.body.classList.add('dropping');
    }
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dropping'));
  document.addEventListener('drop', (e) => {
    document.body.classList.remove('dropping');
    const file = e.dataTransfer?.files[0];
    if (!file) return;
    e.preventDefault();
    onFile(file);
  });
}
