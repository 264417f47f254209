// Loads drill scenarios (YAML, one per file) from files or directories; a broken one is reported
// and skipped, the others still load.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DrillScenarioSchema, type DrillScenario } from './schema.js';

export async function loadDrills(paths: string[]): Promise<{ drills: DrillScenario[]; problems: string[] }> {
  const drills: DrillScenario[] = [];
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
        const r = DrillScenarioSchema.safeParse(parseYaml(await readFile(file, 'utf8')));
        if (!r.success) problems.push(...r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`));
        else if (drills.some((d) => d.name === r.data.name)) problems.push(`${file}: drill name "${r.data.name}" is already used`);
        else drills.push(r.data);
      } catch (err) {
        problems.push(`${file}: ${(err as Error).message}`);
      }
    }
  }
  return { drills, problems };
}
