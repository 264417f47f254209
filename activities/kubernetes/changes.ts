// What an action changed (before → after), the idempotency stamp it leaves on the object, and the
// result every Kubernetes action returns to the workflow (its timeline entry and the audit).
import { Context } from '@temporalio/activity';
import type { GitopsUndo } from './gitops.js';
import type { TrafficUndo } from './traffic.js';
import { heartbeat, inActivity } from '../context.js';

/** The idempotency key of the last medic action on this object (incident + step + try). */
export const STAMP = 'medic.dev/last-action';
/** JSON {op, at, changes}: what that action changed, so a retry can report it without acting. */
export const STAMP_DETAIL = 'medic.dev/last-action-detail';

export interface K8sChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface K8sActionResult {
  summary: string;
  durationMs: number;
  dryRun: boolean;
  /** true when this attempt did not act because the work was already done: by an earlier attempt
   * of the same step (its stamp carries this key), or otherwise (pod already gone, …). */
  alreadyDone: boolean;
  /** "Deployment shop/web", "Node worker-1", … */
  object: string;
  changes: K8sChange[];
  /** drain: the pods evicted, and those left alone (DaemonSet-owned, mirror, already terminating). */
  evicted?: string[];
  skipped?: string[];
  /** What puts this change back, and when: the workflow starts a durable undo workflow for it
   * (when the incident resolves, or after a delay). */
  undo?: UndoPlan;
  /** GitOps ownership seen before acting (activities/kubernetes/gitops.ts). */
  gitops?: GitopsFacts;
}

export type UndoSpec = TrafficUndo | GitopsUndo;
export interface UndoPlan {
  spec: UndoSpec;
  when: 'resolve' | { afterMs: number };
}

/** The owner found, what medic did to it, and its last sync/reconcile (a deployment marker). */
export interface GitopsFacts {
  owner: string;
  did: string;
  lastSync?: { revision?: string; at?: string; running: boolean };
}

export interface StampDetail {
  op: string;
  at: string;
  changes: K8sChange[];
}

const MAX_CHANGES = 25;
const MAX_VALUE_CHARS = 300;
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
const normal = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : v);
const join = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : IDENT.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

/** Keeps long values (a whole pod template) readable in a timeline entry. */
function capValue(v: unknown): unknown {
  if (v === undefined || v === null || typeof v !== 'object') return typeof v === 'string' && v.length > MAX_VALUE_CHARS ? `${v.slice(0, MAX_VALUE_CHARS)}…` : v;
  const text = JSON.stringify(v);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : v;
}

function walk(a: unknown, b: unknown, path: string, out: K8sChange[]): void {
  if (out.length >= MAX_CHANGES) return;
  a = normal(a);
  b = normal(b);
  // An absent map (no annotations yet) compares as an empty one: changes show as leaf paths.
  if ((isRecord(a) || isRecord(b)) && (isRecord(a) || a == null) && (isRecord(b) || b == null)) {
    const x = isRecord(a) ? a : {};
    const y = isRecord(b) ? b : {};
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (key === STAMP || key === STAMP_DETAIL) continue;
      walk(x[key], y[key], join(path, key), out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => walk(x, b[i], join(path, i), out));
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  out.push({ path, before: capValue(a ?? null), after: capValue(b ?? null) });
}

const at = (obj: unknown, keys: string[]): unknown => keys.reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), obj);

/** The leaf fields that differ under the given roots (e.g. ['spec'], ['metadata', 'annotations']),
 * ignoring medic's own stamp. Absent and undefined are the same. */
export function diffObjects(before: unknown, after: unknown, roots: string[][]): K8sChange[] {
  const out: K8sChange[] = [];
  for (const root of roots) walk(at(before, root), at(after, root), root.reduce<string>((p, k) => join(p, k), ''), out);
  return out;
}

/** The annotations to add to a patch: the key, and what this action changes. */
export function stampAnnotations(idempotencyKey: string, op: string, changes: K8sChange[]): Record<string, string> {
  const detail: StampDetail = { op, at: new Date().toISOString(), changes: changes.slice(0, 10) };
  return { [STAMP]: idempotencyKey, [STAMP_DETAIL]: JSON.stringify(detail) };
}

/** The earlier attempt's stamp on an object, if it carries this key. */
export function ownStamp(annotations: Record<string, string> | undefined, idempotencyKey: string): StampDetail | undefined {
  if (annotations?.[STAMP] !== idempotencyKey) return undefined;
  try {
    return JSON.parse(annotations[STAMP_DETAIL] ?? '') as StampDetail;
  } catch {
    return { op: 'unknown', at: '', changes: [] };
  }
}

/** "spec.replicas 2 → 3; …" for summaries. */
export function describeChanges(changes: K8sChange[]): string {
  if (changes.length === 0) return 'no change';
  const shown = changes.slice(0, 3).map((c) => `${c.path} ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`);
  return `${shown.join('; ')}${changes.length > 3 ? ` (+${changes.length - 3} more)` : ''}`;
}

// Shared with the other activities (activities/context.ts); re-exported for the Kubernetes modules.
export { heartbeat, inActivity };

/** When the activity was first scheduled (every attempt shares it); now, outside an activity. */
export const firstScheduledMs = (): number => (inActivity() ? Context.current().info.scheduledTimestampMs : Date.now());

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
