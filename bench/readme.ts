// npm run bench:readme — regenerates every `<!-- bench:NAME -->` block in README.md from
// bench/results/NAME.json (bench/lib/readme.ts); a block without its file shows a placeholder.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_NAMES, readmeBlocks, readResult, regenerate } from './lib/readme.js';
import { runBench } from './lib/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<void> {
  const path = join(ROOT, 'README.md');
  const before = await readFile(path, 'utf8');
  const after = regenerate(before, (name) => readResult(ROOT, name));
  await writeFile(path, after);
  const present = new Set(readmeBlocks(after).map((b) => b.name));
  for (const name of BENCH_NAMES) {
    const has = readResult(ROOT, name) !== undefined;
    console.log(`${name}: ${present.has(name) ? (has ? 'regenerated from bench/results/' + name + '.json' : 'no results file yet (placeholder)') : 'NO BLOCK in README.md'}`);
  }
  console.log(before === after ? 'README.md already up to date' : 'README.md updated');
}

runBench(main);
