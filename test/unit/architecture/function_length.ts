// Function lengths in lines, read with the TypeScript compiler: every function declaration, method,
// constructor, accessor, function expression and arrow function, named after where it is declared.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { listSourceFiles } from './import_graph.ts';

export interface FunctionLength {
  file: string;
  name: string;
  lines: number;
}

export function functionLengths(file: string, text: string): FunctionLength[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: FunctionLength[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ file, name: functionName(node), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function functionName(node: ts.SignatureDeclaration): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name && (ts.isIdentifier(node.name) || ts.isPrivateIdentifier(node.name))) return node.name.text;
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '(anonymous)';
}

/** Every function of `folders` under `root` longer than `maxLines`. */
export function longFunctions(root: string, folders: readonly string[], maxLines: number): FunctionLength[] {
  return listSourceFiles(root, folders)
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) => functionLengths(file, readFileSync(join(root, file), 'utf8')))
    .filter((f) => f.lines > maxLines);
}
