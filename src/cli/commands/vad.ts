import type { Command } from 'commander';
import { readAudioFileAs16k } from '../../audio/audio_file.ts';
import { segmentEventsOffline } from '../../pipeline/offline.ts';
import { loadCliConfig, numberFlag, reportCliError, withConfigOption } from '../cli_config.ts';

export interface VadSegmentJson {
  start_ms: number;
  end_ms: number;
  end_reason: string;
  audio_start_ms: number;
  audio_end_ms: number;
}

export function registerVadCommand(program: Command): void {
  withConfigOption(
    program
      .command('vad')
      .argument(
        '<file>',
        'WAV file (16/24/32-bit PCM, float, or G.711 mu-law/A-law; any supported rate, mono or stereo)',
      )
      .description('Segment a recording into utterances with the same pipeline the server runs')
      .option('--json', 'print {"segments":[...]} as JSON')
      .option('--threshold <x>', 'speech probability threshold', numberFlag)
      .option('--silence-ms <n>', 'silence that ends an utterance, ms', numberFlag)
      .option('--prefix-padding-ms <n>', 'audio kept before the onset, ms', numberFlag)
      .option('--max-utterance-ms <n>', 'longest utterance, ms', numberFlag),
  ).action(
    async (
      file: string,
      opts: {
        json?: boolean;
        threshold?: number;
        silenceMs?: number;
        prefixPaddingMs?: number;
        maxUtteranceMs?: number;
        config?: string;
      },
    ) => {
      const config = loadCliConfig(opts.config, {
        vad: {
          threshold: opts.threshold,
          silence_duration_ms: opts.silenceMs,
          prefix_padding_ms: opts.prefixPaddingMs,
          max_utterance_ms: opts.maxUtteranceMs,
        },
      });
      if (!config) return;
      try {
        const { samples16k, samples8k } = await readAudioFileAs16k(file);
        const events = await segmentEventsOffline(samples16k, config.vad, samples8k);
        const segments: VadSegmentJson[] = [];
        for (const e of events) {
          if (e.type !== 'utterance') continue;
          const u = e.utterance;
          segments.push({
            start_ms: Math.round(u.speechStartMs),
            end_ms: Math.round(u.speechEndMs),
            end_reason: u.endReason,
            audio_start_ms: Math.round(u.startSample / 16),
            audio_end_ms: Math.round(u.endSample / 16),
          });
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ segments })}\n`);
          return;
        }
        const fmt = (ms: number) => (ms / 1000).toFixed(3).padStart(8);
        process.stdout.write(`${segments.length} utterance(s) in ${(samples16k.length / 16000).toFixed(2)} s\n`);
        for (const s of segments) {
          process.stdout.write(
            `${fmt(s.audio_start_ms)} -> ${fmt(s.audio_end_ms)}  speech ${fmt(s.start_ms)} -> ${fmt(s.end_ms)}  ${s.end_reason}\n`,
          );
        }
      } catch (err) {
        reportCliError(err);
      }
    },
  );
}
