// Loads runbooks (YAML, one per file, ${VAR} expanded like playbooks) from files or directories.
// A broken runbook is reported and skipped; the others still load.
import { interpolateEnv } from '../playbooks/load.js';
import { loadNamedYaml } from '../yaml/load-named.js';
import { RunbookSchema, type Runbook } from './schema.js';

export async function loadRunbooks(paths: string[], env: Record<string, string | undefined> = process.env): Promise<{ runbooks: Runbook[]; problems: string[] }> {
  const { items, problems } = await loadNamedYaml(paths, RunbookSchema, { nameLabel: 'name', transform: (text) => interpolateEnv(text, env) });
  return { runbooks: items, problems };
}
