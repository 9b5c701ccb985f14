import type { ModelVariant } from '../model_location.ts';
import { folderWebUrl } from './hub_api.ts';
import { ENGINE_FILES_BY_DEFAULT } from './engine_files.ts';
import { probableVariantFolder } from './variants.ts';

// The one message a user without network gets: what could not be reached and exactly how to put the model
// in place by hand (which folder, which files, where).

export interface OfflineMessageInput {
  endpoint: string;
  repo: string;
  revision: string;
  variant: ModelVariant;
  dir: string;
  /** Hub folder when it is known (after a successful listing). */
  folder?: string;
  /** Files still missing when the listing succeeded; otherwise the expected file set is shown. */
  files?: string[];
  reason: string;
}

export function offlineMessage(m: OfflineMessageInput): string {
  const folder = m.folder ?? probableVariantFolder(m.variant);
  const unconfirmed =
    m.folder === undefined
      ? ` (not listed yet: if the name differs, take the ${m.variant === 'cpu' ? 'int4 CPU' : 'GPU int4'} folder holding genai_config.json)`
      : '';
  const files =
    m.files !== undefined && m.files.length > 0
      ? m.files.join(', ')
      : `${ENGINE_FILES_BY_DEFAULT.join(', ')} (the vision files are not needed)`;
  return [
    `Cannot reach the Hugging Face hub at ${m.endpoint} (${m.reason}).`,
    `To install the model by hand, put these files of`,
    `  ${folderWebUrl(m.endpoint, m.repo, m.revision, folder)}${unconfirmed}`,
    `directly into ${m.dir} (same names, no extra sub-folder). Files: ${files}.`,
    `From a machine with access, for example:`,
    `  huggingface-cli download ${m.repo} --include "${folder}/*" --exclude "*vision*" --local-dir hf && cp -r hf/${folder}/. "${m.dir}"`,
    `Or set HF_ENDPOINT to a reachable hub mirror and run the command again.`,
  ].join('\n');
}
