/** A benchmark's figures: JSON on one line with --json; otherwise a title and one indented line per figure. */
export function printBenchResult(result: object, json: boolean | undefined, title: string, keyWidth = 16): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(`${title}\n`);
  for (const [k, v] of Object.entries(result))
    process.stdout.write(`  ${k.padEnd(keyWidth)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
}
