// The resampler's inner loop on WebAssembly SIMD (fir_kernel.wat): four float32 multiply-adds per
// instruction instead of one float64 multiply-add. At 200 live 24 kHz streams the scalar loop was the
// largest single cost on the event loop (a third of it); `earshot bench resample`
// compares the two kernels.
//
// One instance per thread. Its memory holds each rate pair's coefficient table (float32, every phase
// zero-padded to a multiple of 8 taps; allocated once, the tables are few and small) followed by a
// scratch area where each call copies the stream's input window and receives the outputs.
import { FIR_KERNEL_WASM_BASE64 } from './fir_kernel_bytes.ts';
import type { PolyphaseFilter } from './polyphase_filter.ts';

const PAGE_BYTES = 65_536;
/** Taps per iteration of the kernel's loop: two f32x4 vectors. */
const TAP_GROUP = 8;
const FLOAT_BYTES = 4;

interface KernelExports {
  memory: WebAssembly.Memory;
  resample(
    coefficients: number,
    paddedTaps: number,
    upFactor: number,
    baseStep: number,
    phaseStep: number,
    input: number,
    start: number,
    phase: number,
    out: number,
    count: number,
  ): void;
}

interface CoefficientTable {
  byteOffset: number;
  paddedTaps: number;
}

/** The position of a resampler between outputs: window start (buffer index) and phase. */
export interface KernelPosition {
  start: number;
  phase: number;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

export class FirKernel {
  private readonly exports: KernelExports;
  private heap: Float32Array;
  private readonly tables = new WeakMap<PolyphaseFilter, CoefficientTable>();
  /** First byte after the coefficient tables: the scratch area starts here. */
  private tablesEnd = 0;

  constructor(module: WebAssembly.Module) {
    this.exports = new WebAssembly.Instance(module).exports as unknown as KernelExports;
    this.heap = new Float32Array(this.exports.memory.buffer);
  }

  /**
   * Writes `count` outputs of `filter` to out[outOffset...], reading buffer[0, bufferLength) from window
   * start `position.start` with phase `position.phase`, and returns the position after them.
   */
  run(
    filter: PolyphaseFilter,
    baseStep: number,
    phaseStep: number,
    buffer: Float32Array,
    bufferLength: number,
    position: KernelPosition,
    out: Float32Array,
    outOffset: number,
    count: number,
  ): KernelPosition {
    const table = this.tableOf(filter);
    const inputOffset = this.tablesEnd;
    // The last output's padded taps read up to TAP_GROUP - 1 floats past the buffer: zeros.
    const inputFloats = alignUp(bufferLength + TAP_GROUP, TAP_GROUP);
    const outputOffset = inputOffset + inputFloats * FLOAT_BYTES;
    this.ensureBytes(outputOffset + count * FLOAT_BYTES);
    const inputIndex = inputOffset / FLOAT_BYTES;
    this.heap.set(buffer.subarray(0, bufferLength), inputIndex);
    this.heap.fill(0, inputIndex + bufferLength, inputIndex + inputFloats);
    this.exports.resample(
      table.byteOffset,
      table.paddedTaps,
      filter.upFactor,
      baseStep,
      phaseStep,
      inputOffset,
      position.start,
      position.phase,
      outputOffset,
      count,
    );
    const outputIndex = outputOffset / FLOAT_BYTES;
    out.set(this.heap.subarray(outputIndex, outputIndex + count), outOffset);
    // phaseStep < upFactor, so each output carries at most one extra input: the carries add up to this.
    const phaseSum = position.phase + count * phaseStep;
    return {
      start: position.start + count * baseStep + Math.floor(phaseSum / filter.upFactor),
      phase: phaseSum % filter.upFactor,
    };
  }

  private tableOf(filter: PolyphaseFilter): CoefficientTable {
    let table = this.tables.get(filter);
    if (table !== undefined) return table;
    const paddedTaps = alignUp(filter.tapsPerPhase, TAP_GROUP);
    table = { byteOffset: this.tablesEnd, paddedTaps };
    this.ensureBytes(this.tablesEnd + filter.upFactor * paddedTaps * FLOAT_BYTES);
    for (let phase = 0; phase < filter.upFactor; phase++) {
      const from = filter.coefficients.subarray(phase * filter.tapsPerPhase, (phase + 1) * filter.tapsPerPhase);
      const at = table.byteOffset / FLOAT_BYTES + phase * paddedTaps;
      this.heap.set(from, at);
      this.heap.fill(0, at + filter.tapsPerPhase, at + paddedTaps);
    }
    this.tablesEnd = table.byteOffset + filter.upFactor * paddedTaps * FLOAT_BYTES;
    this.tables.set(filter, table);
    return table;
  }

  private ensureBytes(bytes: number): void {
    const memory = this.exports.memory;
    if (bytes <= memory.buffer.byteLength) return;
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
    this.heap = new Float32Array(memory.buffer);
  }
}

let shared: FirKernel | null | undefined;

/** This thread's kernel, or null where WebAssembly SIMD is unavailable (the scalar loop is used then). */
export function firKernel(): FirKernel | null {
  if (shared !== undefined) return shared;
  const bytes = Buffer.from(FIR_KERNEL_WASM_BASE64, 'base64');
  shared =
    typeof WebAssembly === 'object' && WebAssembly.validate(bytes)
      ? new FirKernel(new WebAssembly.Module(bytes))
      : null;
  return shared;
}
