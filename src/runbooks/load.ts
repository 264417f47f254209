// Loads runbooks (YAML, one per file, ${VAR} expanded like playbooks) from files or directories.
// A broken runbook is reported and skipped; the others still load.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { interpolateEnv } from '../playbooks/load.js';
import { RunbookSchema, type Runbook } from './schema.js';

export async function loadRunbooks(paths: string[], env: Record<string, string | undefined> = process.env): Promise<{ runbooks: Runbook[]; problems: string[] }> {
  const runbooks: Runbook[] = [];
  const problems: string[] = [];
  for (const p of paths) {
    let files: string[];
    try {
      files = (await stat(p)).isDirectory()
        ? (await readdir(p)).filter((f) => ['.yaml', '.yml'].includes(extname(f))).sort().map((f) => join(p, f))
        : [p];
    } catch (err) {
      problems.push(`${p}: ${(err as Error).message}`);
      continue;
    }
    for (const file of files) {
      try {
        const r = RunbookSchema.safeParse(parseYaml(interpolateEnv(await readFile(file, 'utf8'), env)));
        if (!r.success) {
          problems.push(...r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`));
        } else if (runbooks.some((rb) => rb.name === r.data.name)) {
          problems.push(`${file}: name "${r.data.name}" is already used`);
        } else runbooks.push(r.data);
      } catch (err) {
        problems.push(`${file}: ${(err as Error).message}`);
      }
    }
  }
  return { runbooks, problems };
}
