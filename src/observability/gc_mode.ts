// Which V8 garbage collector mode this process runs with. `npm start`, `npm run earshot` and the `earshot`
// bin start Node with --single-threaded-gc: on the 2-core machines Earshot is built on, V8's default
// (parallel scavenges and concurrent marking on four helper threads) cost 28 points more server CPU at 200
// streaming sessions (164% vs 136%) and two to three times the event lag p99. Where cores sit idle, the
// default is faster instead (README, "Load figures"). The flag only works on Node's command line (setting it
// at run time crashes V8), so it is reported here, not set.

export type GcMode = 'single-threaded' | 'v8-default';

export function gcMode(execArgv: readonly string[] = process.execArgv): GcMode {
  return execArgv.includes('--single-threaded-gc') ? 'single-threaded' : 'v8-default';
}
