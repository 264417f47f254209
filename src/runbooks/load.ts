// Loads runbooks (YAML, one per file, ${VAR} expanded like playbooks) from files or directories.
// A broken runbook is reported and skipped; the others still load.
import { envPolicyFrom, interpolateEnvOrThrow, type EnvPolicy } from '../playbooks/load.js';
import { loadNamedYaml } from '../yaml/load-named.js';
import { RunbookSchema, type Runbook } from './schema.js';

export async function loadRunbooks(
  paths: string[],
  env: Record<string, string | undefined> | EnvPolicy = process.env,
): Promise<{ runbooks: Runbook[]; problems: string[] }> {
  const policy = 'allow' in env && Array.isArray(env.allow) ? (env as EnvPolicy) : envPolicyFrom(env as Record<string, string | undefined>);
  const { items, problems } = await loadNamedYaml(paths, RunbookSchema, { nameLabel: 'name', transform: (text) => interpolateEnvOrThrow(text, policy) });
  return { runbooks: items, problems };
}
