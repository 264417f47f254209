// Loads named YAML documents (one per file) from files or directories, validated by a zod schema.
// A broken document is reported as `file: path: message` and skipped; the others still load.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

/** The files a path names: a directory gives its *.yaml / *.yml files, sorted; throws if unreadable. */
export async function yamlFilesAt(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  return (await readdir(path)).filter((f) => ['.yaml', '.yml'].includes(extname(f))).sort().map((f) => join(path, f));
}

export interface LoadNamedOptions {
  /** Applied to the file's text before YAML parsing (e.g. ${VAR} expansion). */
  transform?: (text: string) => string;
  /** Label in the duplicate-name problem: `<label> "x" is already used`. */
  nameLabel: string;
}

export async function loadNamedYaml<S extends z.ZodType<{ name: string }>>(
  paths: string[],
  schema: S,
  { transform = (t) => t, nameLabel }: LoadNamedOptions,
): Promise<{ items: z.output<S>[]; problems: string[] }> {
  const items: z.output<S>[] = [];
  const problems: string[] = [];
  for (const p of paths) {
    let files: string[];
    try {
      files = await yamlFilesAt(p);
    } catch (err) {
      problems.push(`${p}: ${(err as Error).message}`);
      continue;
    }
    for (const file of files) {
      try {
        const r = schema.safeParse(parseYaml(transform(await readFile(file, 'utf8'))));
        if (!r.success) problems.push(...r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`));
        else if (items.some((d) => d.name === r.data.name)) problems.push(`${file}: ${nameLabel} "${r.data.name}" is already used`);
        else items.push(r.data);
      } catch (err) {
        problems.push(`${file}: ${(err as Error).message}`);
      }
    }
  }
  return { items, problems };
}
