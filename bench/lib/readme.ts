// The README's performance section, generated: every `<!-- bench:NAME … -->` … `<!-- /bench:NAME -->`
// block in README.md is the rendering of bench/results/NAME.json (schemas in bench/lib/results.ts).
// A bench writes its results with writeBenchResult (validated, then its block regenerated);
// `npm run bench:readme` regenerates every block from the files. test/unit/bench-readme.test.ts
// checks each block is its file's rendering and every number in it is one of the file's.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { CompareResultSchema, renderTable } from './compare-executor.js';
import { renderApproval, renderCapacity, renderDrillOverhead, renderLatency, renderStorm } from './render.js';
import { ApprovalResultSchema, CapacityResultSchema, DrillOverheadResultSchema, LatencyResultSchema, StormResultSchema } from './results.js';

interface Bench<S extends z.ZodType> {
  schema: S;
  render: (r: z.output<S>) => string;
  /** The command that writes the results file. */
  command: string;
}
const bench = <S extends z.ZodType>(b: Bench<S>): Bench<z.ZodType> => b as unknown as Bench<z.ZodType>;

/** Every bench whose results the README carries, by results file name. */
export const BENCHES = {
  latency: bench({ schema: LatencyResultSchema, render: renderLatency, command: 'npm run bench:latency' }),
  approval: bench({ schema: ApprovalResultSchema, render: renderApproval, command: 'npm run bench:approval' }),
  storm: bench({ schema: StormResultSchema, render: renderStorm, command: 'npm run bench:storm' }),
  capacity: bench({ schema: CapacityResultSchema, render: renderCapacity, command: 'npm run bench:capacity' }),
  'compare-executor': bench({ schema: CompareResultSchema, render: renderTable, command: 'npm run bench:compare-executor' }),
  'drill-overhead': bench({ schema: DrillOverheadResultSchema, render: renderDrillOverhead, command: 'npm run bench:drill' }),
} satisfies Record<string, Bench<z.ZodType>>;
export type BenchName = keyof typeof BENCHES;
export const BENCH_NAMES = Object.keys(BENCHES) as BenchName[];
const isBench = (name: string): name is BenchName => name in BENCHES;

export const resultsPath = (root: string, name: BenchName): string => join(root, 'bench/results', `${name}.json`);
export const startMarker = (name: BenchName): string => `<!-- bench:${name} (generated from bench/results/${name}.json by ${BENCHES[name].command}; do not edit) -->`;
export const endMarker = (name: string): string => `<!-- /bench:${name} -->`;
const BLOCK = /<!-- bench:([a-z0-9-]+)\b[^>]*-->\n?([\s\S]*?)\n?<!-- \/bench:\1 -->/g;

/** The placeholder of a block whose results file does not exist yet (it carries no figure). */
export const placeholder = (name: BenchName): string => `_Not measured yet: run \`${BENCHES[name].command}\` (writes bench/results/${name}.json and this block)._`;

/** A results file, validated by its schema; undefined when it does not exist. */
export function readResult(root: string, name: BenchName): unknown {
  const path = resultsPath(root, name);
  if (!existsSync(path)) return undefined;
  return parseResult(name, JSON.parse(readFileSync(path, 'utf8')), path);
}

function parseResult(name: BenchName, raw: unknown, where: string): unknown {
  const r = BENCHES[name].schema.safeParse(raw);
  if (!r.success) throw new Error(`${where}: not a ${name} result: ${r.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The block's text for a result (or the placeholder when there is none). */
export const renderBlock = (name: BenchName, result: unknown): string => (result === undefined ? placeholder(name) : BENCHES[name].render(result));

/** The README's blocks, in order: name and text between the markers. */
export function readmeBlocks(readme: string): { name: string; body: string }[] {
  return [...readme.matchAll(BLOCK)].map((m) => ({ name: m[1]!, body: m[2]! }));
}

/** `readme` with the blocks (all, or `only`) regenerated from `results`; an unknown block name throws. */
export function regenerate(readme: string, results: (name: BenchName) => unknown, only?: BenchName[]): string {
  return readme.replace(BLOCK, (whole, name: string) => {
    if (!isBench(name)) throw new Error(`README: block bench:${name} names no bench (known: ${BENCH_NAMES.join(', ')})`);
    if (only && !only.includes(name)) return whole;
    return `${startMarker(name)}\n${renderBlock(name, results(name))}\n${endMarker(name)}`;
  });
}

/** Writes a bench's results file (validated) and regenerates its README block; returns the block. */
export async function writeBenchResult(root: string, name: BenchName, result: unknown): Promise<string> {
  const parsed = parseResult(name, result, `${name} result`);
  await mkdir(join(root, 'bench/results'), { recursive: true });
  await writeFile(resultsPath(root, name), `${JSON.stringify(parsed, null, 2)}\n`);
  const readmePath = join(root, 'README.md');
  const readme = await readFile(readmePath, 'utf8');
  if (!readmeBlocks(readme).some((b) => b.name === name)) throw new Error(`README.md has no block ${startMarker(name)} … ${endMarker(name)}: add one where the figures belong`);
  await writeFile(readmePath, regenerate(readme, () => parsed, [name]));
  return renderBlock(name, parsed);
}

// The numbers a reader sees: digits not part of a word (p99, v2) or a version (0.25.0).
const NUMBER = /(?<![\w.])\d+(?:\.\d+)?(?![\w.])/g;
/** Every number written in `text`, as written. */
export const numbersIn = (text: string): string[] => [...text.matchAll(NUMBER)].map((m) => m[0]);

/** The figures of a results value: its numeric fields, and the numbers written inside its strings
 * (as written: a date's "04", a load average's "16.61"). */
export function numbersOf(value: unknown): (number | string)[] {
  if (typeof value === 'number') return [value];
  if (typeof value === 'string') return numbersIn(value);
  if (Array.isArray(value)) return value.flatMap(numbersOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(numbersOf);
  return [];
}

/** The numbers in `text` that are none of `values` (numbers at the precision written). */
export function foreignNumbers(text: string, values: (number | string)[]): string[] {
  return numbersIn(text).filter((t) => {
    const decimals = t.split('.')[1]?.length ?? 0;
    return !values.some((v) => (typeof v === 'string' ? v === t : v.toFixed(decimals) === t || (decimals === 0 && String(v) === t)));
  });
}
