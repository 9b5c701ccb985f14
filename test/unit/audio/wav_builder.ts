// Builds WAV files byte by byte for tests, including shapes writeWav never produces.

export interface ChunkSpec {
  id: string;
  payload: Uint8Array;
  /** Size written in the header when it should lie (streamed files, truncation). */
  declaredSize?: number;
}

export function chunk(id: string, payload: Uint8Array | number[], declaredSize?: number): ChunkSpec {
  return { id, payload: payload instanceof Uint8Array ? payload : new Uint8Array(payload), declaredSize };
}

export interface FmtSpec {
  formatCode: number;
  channelCount: number;
  sampleRateHz: number;
  bitsPerSample: number;
  /** Subformat code for WAVE_FORMAT_EXTENSIBLE (formatCode 0xFFFE). */
  subFormat?: number;
}

export function fmtChunk(spec: FmtSpec): ChunkSpec {
  const extensible = spec.formatCode === 0xfffe;
  const payload = new Uint8Array(extensible ? 40 : 16);
  const view = new DataView(payload.buffer);
  const blockAlign = (spec.channelCount * spec.bitsPerSample) / 8;
  view.setUint16(0, spec.formatCode, true);
  view.setUint16(2, spec.channelCount, true);
  view.setUint32(4, spec.sampleRateHz, true);
  view.setUint32(8, spec.sampleRateHz * blockAlign, true);
  view.setUint16(12, blockAlign, true);
  view.setUint16(14, spec.bitsPerSample, true);
  if (extensible) {
    view.setUint16(16, 22, true); // cbSize
    view.setUint16(18, spec.bitsPerSample, true); // valid bits
    view.setUint32(20, spec.channelCount === 2 ? 0x3 : 0x4, true); // channel mask
    view.setUint16(24, spec.subFormat ?? 1, true);
    payload.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  return chunk('fmt ', payload);
}

export function buildWav(chunks: ChunkSpec[], riffTag = 'RIFF', waveTag = 'WAVE'): Uint8Array {
  const parts: number[] = [];
  const pushTag = (tag: string): void => {
    for (let i = 0; i < 4; i++) parts.push(tag.charCodeAt(i));
  };
  const pushUint32 = (value: number): void => {
    parts.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
  };
  pushTag(riffTag);
  pushUint32(0); // patched below
  pushTag(waveTag);
  for (const spec of chunks) {
    pushTag(spec.id);
    pushUint32(spec.declaredSize ?? spec.payload.length);
    parts.push(...spec.payload);
    if (spec.payload.length % 2 === 1) parts.push(0);
  }
  const bytes = Uint8Array.from(parts);
  new DataView(bytes.buffer).setUint32(4, bytes.length - 8, true);
  return bytes;
}

export function int16Payload(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((value, i) => view.setInt16(2 * i, value, true));
  return out;
}

export function float32Payload(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((value, i) => view.setFloat32(4 * i, value, true));
  return out;
}
