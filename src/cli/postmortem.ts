// `medic postmortem <id> [--out file.md]`: the incident's postmortem as Markdown, from medic's
// API (GET /api/incidents/:id/postmortem) or, with --store, from the incident store directly.
import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../config.js';
import { loadPostmortem, PostmortemNotFound } from '../postmortem/load.js';
import { postmortemMarkdown } from '../postmortem/markdown.js';
import { withStore } from './report.js';

export class PostmortemUsageError extends Error {}

export async function postmortemFromStore(id: string, store: string): Promise<string> {
  const config = loadConfig();
  return withStore(store, async (s) => {
    try {
      return postmortemMarkdown(await loadPostmortem(s, id), { temporalUiUrl: config.temporal.uiUrl, namespace: config.temporal.namespace });
    } catch (err) {
      if (err instanceof PostmortemNotFound) throw new PostmortemUsageError(err.message);
      throw err;
    }
  });
}

/** Writes to --out (saying where) or prints. */
export async function emitPostmortem(markdown: string, out: string | undefined, io: { out: (t: string) => void; err: (line: string) => void }): Promise<number> {
  if (out) {
    await writeFile(out, markdown);
    io.err(`postmortem written to ${out}`);
  } else io.out(markdown);
  return 0;
}
