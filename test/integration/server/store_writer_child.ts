// Child process for the SIGKILL test: records utterances one commit at a time and reports each commit on
// stdout after it returns, then waits to be killed.
import { TranscriptStore } from '../../../src/store/transcript_store.ts';

const path = process.argv[2];
const store = TranscriptStore.open({ path });
store.startSession({ id: 'sess_killed', keyId: 'key_test', type: 'transcription' });
let n = 0;
const timer = setInterval(() => {
  n += 1;
  const ok = store.commitUtterance({
    sessionId: 'sess_killed',
    itemId: `item_${n}`,
    startMs: n * 1000,
    endMs: n * 1000 + 800,
    transcript: `utterance number ${n}`,
  });
  if (ok) process.stdout.write(`committed item_${n}\n`);
}, 5);
timer.ref();
