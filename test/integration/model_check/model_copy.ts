import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

// Makes a modified copy of a fixture model directory: small files are copied, the large .data files
// are symlinked (unless excluded), and .onnx files can be edited at the protobuf level.

export function copyModelDir(source: string, options: { omit?: string[] } = {}): string {
  const target = mkdtempSync(join(tmpdir(), 'earshot-model-copy-'));
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(source)) {
    if (options.omit?.includes(name)) continue;
    if (name.endsWith('.data')) symlinkSync(join(source, name), join(target, name));
    else copyFileSync(join(source, name), join(target, name));
  }
  return target;
}

export function editGraph(dir: string, file: string, edit: (graph: onnxProto.onnx.IGraphProto) => void): void {
  const path = join(dir, file);
  const model = onnxProto.onnx.ModelProto.decode(readFileSync(path));
  edit(model.graph!);
  writeFileSync(path, onnxProto.onnx.ModelProto.encode(model).finish());
}

/** Renames a graph input everywhere it is used. */
export function renameInput(graph: onnxProto.onnx.IGraphProto, from: string, to: string): void {
  for (const input of graph.input ?? []) if (input.name === from) input.name = to;
  for (const node of graph.node ?? []) node.input = (node.input ?? []).map((n) => (n === from ? to : n));
}

/** Changes the declared element type of a graph input (the ONNX TensorProto.DataType number). */
export function setInputType(graph: onnxProto.onnx.IGraphProto, name: string, elemType: number): void {
  const input = (graph.input ?? []).find((i) => i.name === name);
  if (!input?.type?.tensorType) throw new Error(`no input ${name}`);
  input.type.tensorType.elemType = elemType;
}
