// Reading request bodies of the OpenAI-compatible routes: always bounded while reading (an oversized
// body is refused before it is buffered), multipart parsed by Node's own fetch implementation.
import type { IncomingMessage } from 'node:http';
import { EarshotError } from '../errors.ts';

/** Multipart framing around the file (boundaries, part headers, the small text fields). */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

export async function readBodyBounded(req: IncomingMessage, maxBytes: number, what: string): Promise<Buffer> {
  const tooLarge = () => new EarshotError('E_PAYLOAD_TOO_LARGE', `The ${what} exceeds the limit of ${maxBytes} bytes.`);
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface UploadForm {
  file: { name: string; bytes: Uint8Array };
  fields: Map<string, string[]>;
}

/** A multipart/form-data upload with a `file` part of at most maxFileBytes. */
export async function readUploadForm(req: IncomingMessage, maxFileBytes: number): Promise<UploadForm> {
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new EarshotError('E_UNSUPPORTED_MEDIA_TYPE', 'The body must be multipart/form-data with a `file` part.');
  }
  const body = await readBodyBounded(req, maxFileBytes + MULTIPART_OVERHEAD_BYTES, 'upload');
  let form: FormData;
  try {
    form = await new Request('http://earshot.invalid/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: new Blob([new Uint8Array(body)]),
    }).formData();
  } catch {
    throw new EarshotError('E_INVALID_REQUEST', 'The multipart/form-data body cannot be parsed.');
  }
  const fields = new Map<string, string[]>();
  let file: UploadForm['file'] | null = null;
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') {
      fields.set(name, [...(fields.get(name) ?? []), value]);
    } else if (name === 'file' && file === null) {
      if (value.size > maxFileBytes)
        throw new EarshotError('E_PAYLOAD_TOO_LARGE', `The file exceeds the limit of ${maxFileBytes} bytes.`, {
          param: 'file',
        });
      file = { name: value.name, bytes: new Uint8Array(await value.arrayBuffer()) };
    }
  }
  if (!file) throw new EarshotError('E_INVALID_REQUEST', 'The `file` part is missing.', { param: 'file' });
  return { file, fields };
}
