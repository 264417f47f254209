// Loads playbooks from YAML. Every problem is reported with file, line and column (zod issue
// paths are mapped back to YAML nodes), and one broken file never stops the others loading.
import { readFile } from 'node:fs/promises';
import { isCollection, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { yamlFilesAt } from '../yaml/load-named.js';
import { PlaybookSchema, type Playbook } from './schema.js';

export interface PlaybookProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface LoadResult {
  playbooks: Playbook[];
  problems: PlaybookProblem[];
  files: string[];
}

/** Finds the YAML node for a zod path; falls back to the nearest ancestor that exists. */
function positionOf(doc: Document, lines: LineCounter, path: PropertyKey[]): { line: number; column: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as (string | number)[], true) as { range?: [number, number, number] } | undefined;
    const keyNode = depth > 0 ? findKeyNode(doc, path.slice(0, depth)) : undefined;
    const range = keyNode?.range ?? (node && typeof node === 'object' ? node.range : undefined);
    if (range) {
      const { line, col } = lines.linePos(range[0]);
      return { line, column: col };
    }
  }
  return { line: 1, column: 1 };
}

/** For a missing or mis-typed value, pointing at its key reads better than at its value. */
function findKeyNode(doc: Document, path: PropertyKey[]): { range?: [number, number, number] } | undefined {
  const parent = doc.getIn(path.slice(0, -1) as (string | number)[], true);
  const last = path[path.length - 1];
  if (!isCollection(parent) || typeof last !== 'string') return undefined;
  for (const item of parent.items as { key?: { value?: unknown; range?: [number, number, number] } }[]) {
    if (item.key && item.key.value === last) return item.key;
  }
  return undefined;
}

const ENV_REF = /\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;

/** ${VAR} and ${VAR:-default} are replaced at load time, for non-secret settings such as URLs
 * (secrets go in headers as {{secret.NAME}} and are resolved only by the activity). */
export function interpolateEnv(text: string, env: Record<string, string | undefined>): string {
  // As in the shell, ${VAR:-default} uses the default when VAR is unset *or empty*.
  return text.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
    const value = env[name];
    return value === undefined || value === '' ? (fallback ?? '') : value;
  });
}

/** Where a zod issue is shown, and how it reads. */
function describeIssue(doc: Document, issue: z.core.$ZodIssue): { at: PropertyKey[]; message: string } {
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  // An unknown key is reported on the key itself, not on the object holding it.
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
    return { at: [...issue.path, issue.keys[0]], message: `${where}${issue.message}` };
  }
  if (issue.code === 'invalid_type' && issue.path.length > 0 && !doc.hasIn(issue.path)) {
    return { at: issue.path, message: `${where}is required (expected ${issue.expected})` };
  }
  return { at: issue.path, message: `${where}${issue.message}` };
}

const byPosition = (a: PlaybookProblem, b: PlaybookProblem): number => a.line - b.line || a.column - b.column;

export function parsePlaybook(
  source: string,
  file: string,
  env: Record<string, string | undefined> = process.env,
): { playbook?: Playbook; problems: PlaybookProblem[]; namePosition?: { line: number; column: number } } {
  const text = interpolateEnv(source, env);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { file, line, column: col, message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  const parsed = PlaybookSchema.safeParse(doc.toJS());
  if (parsed.success) return { playbook: parsed.data, problems: [], namePosition: positionOf(doc, lines, ['name']) };
  return {
    problems: parsed.error.issues
      .map((issue) => {
        const { at, message } = describeIssue(doc, issue);
        return { file, ...positionOf(doc, lines, at), message };
      })
      .sort(byPosition),
  };
}

/** Files named by `paths` (directories give their *.yaml / *.yml files, sorted). A path that
 * cannot be read is a problem, not a crash, so the other paths still load. */
async function expand(paths: string[], problems: PlaybookProblem[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    try {
      files.push(...(await yamlFilesAt(p)));
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      problems.push({ file: p, line: 1, column: 1, message: missing ? 'no such file or directory' : `cannot read: ${(err as Error).message}` });
    }
  }
  return files;
}

export async function loadPlaybooks(paths: string[]): Promise<LoadResult> {
  const problems: PlaybookProblem[] = [];
  const files = await expand(paths, problems);
  const playbooks: Playbook[] = [];
  const owner = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      problems.push({ file, line: 1, column: 1, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const r = parsePlaybook(text, file);
    problems.push(...r.problems);
    if (!r.playbook) continue;
    const first = owner.get(r.playbook.name);
    if (first) {
      const at = r.namePosition ?? { line: 1, column: 1 };
      problems.push({ file, ...at, message: `name: "${r.playbook.name}" is already used by ${first}` });
      continue;
    }
    owner.set(r.playbook.name, file);
    playbooks.push(r.playbook);
  }
  return { playbooks, problems, files };
}

export const formatProblem = (p: PlaybookProblem): string => `${p.file}:${p.line}:${p.column}: ${p.message}`;
