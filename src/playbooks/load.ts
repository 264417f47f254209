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

/** Which environment variables playbooks (and runbooks) may read with ${VAR}: MEDIC_PB_* and the
 * names configured in playbookEnv (MEDIC_PLAYBOOK_ENV). Everything else in the environment —
 * the Slack token, operator tokens, secrets — stays out of playbooks, URLs and workflow history. */
export interface EnvPolicy {
  env: Record<string, string | undefined>;
  /** Extra names beside MEDIC_PB_*. */
  allow: readonly string[];
}

export const ENV_PREFIX = 'MEDIC_PB_';

/** The policy from an environment alone (CLI without a config): MEDIC_PLAYBOOK_ENV lists the names. */
export const envPolicyFrom = (env: Record<string, string | undefined>, allow?: readonly string[]): EnvPolicy => ({
  env,
  allow: allow ?? (env.MEDIC_PLAYBOOK_ENV ?? '').split(',').map((n) => n.trim()).filter(Boolean),
});

export const envAllowed = (name: string, policy: EnvPolicy): boolean => name.startsWith(ENV_PREFIX) || policy.allow.includes(name);

export const envRefusal = (name: string): string =>
  `\${${name}}: playbooks may only read MEDIC_PB_* variables and those listed in playbookEnv (MEDIC_PLAYBOOK_ENV); rename it MEDIC_PB_${name} or list it there`;

/** ${VAR} and ${VAR:-default} are replaced at load time, for non-secret settings such as URLs
 * (secrets go in headers as {{secret.NAME}} and are resolved only by the activity). A variable
 * outside the policy is not read: it is reported at its offset and replaced by nothing. */
export function interpolateEnv(text: string, policy: EnvPolicy): { text: string; refused: { name: string; index: number }[] } {
  const refused: { name: string; index: number }[] = [];
  // As in the shell, ${VAR:-default} uses the default when VAR is unset *or empty*.
  const out = text.replace(ENV_REF, (_m, name: string, fallback: string | undefined, index: number) => {
    if (!envAllowed(name, policy)) {
      refused.push({ name, index });
      return '';
    }
    const value = policy.env[name];
    return value === undefined || value === '' ? (fallback ?? '') : value;
  });
  return { text: out, refused };
}

/** For loaders that report problems as text (runbooks): the expanded text, or an error naming
 * every variable refused. */
export function interpolateEnvOrThrow(text: string, policy: EnvPolicy): string {
  const r = interpolateEnv(text, policy);
  if (r.refused.length > 0) throw new Error(r.refused.map((x) => envRefusal(x.name)).join('; '));
  return r.text;
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

const isPolicy = (e: Record<string, string | undefined> | EnvPolicy): e is EnvPolicy =>
  Array.isArray((e as EnvPolicy).allow) && typeof (e as EnvPolicy).env === 'object';

const byPosition = (a: PlaybookProblem, b: PlaybookProblem): number => a.line - b.line || a.column - b.column;

export function parsePlaybook(
  source: string,
  file: string,
  env: Record<string, string | undefined> | EnvPolicy = process.env,
): { playbook?: Playbook; problems: PlaybookProblem[]; namePosition?: { line: number; column: number } } {
  const policy: EnvPolicy = isPolicy(env) ? env : envPolicyFrom(env);
  const { text, refused } = interpolateEnv(source, policy);
  if (refused.length > 0) {
    const at = new LineCounter();
    parseDocument(source, { lineCounter: at });
    return {
      problems: refused.map((r) => {
        const { line, col } = at.linePos(r.index);
        return { file, line, column: col, message: envRefusal(r.name) };
      }),
    };
  }
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

/** `policy`: which ${VAR} playbooks may read (default: MEDIC_PB_* and MEDIC_PLAYBOOK_ENV's names
 * from process.env; the server passes config.playbookEnv). */
export async function loadPlaybooks(paths: string[], policy: EnvPolicy = envPolicyFrom(process.env)): Promise<LoadResult> {
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
    const r = parsePlaybook(text, file, policy);
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
