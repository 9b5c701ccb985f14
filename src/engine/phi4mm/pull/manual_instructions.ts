import type { ModelVariant } from '../../model_location.ts';
import { folderWebUrl } from './hub_api.ts';
import { EXPECTED_VARIANT_FILES, probableVariantFolder } from './variants.ts';

// The one message a user without network gets: what could not be reached and exactly how to put the model
// in place by hand (which folder, which files, where).

export interface OfflineMessageInput {
  endpoint: string;
  repo: string;
  revision: string;
  variant: ModelVariant;
  dir: string;
  /** Hub folder when it is known (CPU: only after a successful listing). */
  folder?: string;
  /** Files still missing when the listing succeeded; otherwise the expected file set is shown. */
  files?: string[];
  reason: string;
}

export function offlineMessage(m: OfflineMessageInput): string {
  const folder = m.folder ?? probableVariantFolder(m.variant);
  const unconfirmed = m.folder === undefined && m.variant === 'cpu'
    ? ` (folder name unconfirmed: take the int4 folder under cpu/)`
    : '';
  const files = m.files !== undefined && m.files.length > 0
    ? m.files.join(', ')
    : `${EXPECTED_VARIANT_FILES.join(', ')} and any other file listed there`;
  return [
    `Cannot reach the Hugging Face hub at ${m.endpoint} (${m.reason}).`,
    `To install the model by hand, put every file of`,
    `  ${folderWebUrl(m.endpoint, m.repo, m.revision, folder)}${unconfirmed}`,
    `directly into ${m.dir} (same names, no extra sub-folder). Files: ${files}.`,
    `From a machine with access, for example:`,
    `  huggingface-cli download ${m.repo} --include "${folder}/*" --local-dir hf && cp -r hf/${folder}/. "${m.dir}"`,
    `Or set HF_ENDPOINT to a reachable hub mirror and run the command again.`,
  ].join('\n');
}
