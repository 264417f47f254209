// `when:` conditions on playbook steps, over the evidence pack's facts (src/evidence/schema.ts):
//   evidence.oomKilled · evidence.crashLoop · evidence.restarts >= 3
//   changed.image within 30m · changed.any within 1h · changed.flag (any time in the window)
//   joined with `and`, each optionally negated with `not`.
// Parsed at playbook load (zod), evaluated by the pure decision core, so a real run and
// `medic simulate` decide alike. Facts a missing part would give are false/0 (never guessed).
import { DURATION_PATTERN, toMs } from '../playbooks/duration.js';
import { CHANGE_KINDS, type ChangeKind, type EvidenceFacts } from './schema.js';

type Atom =
  | { kind: 'flag'; fact: 'oomKilled' | 'crashLoop' }
  | { kind: 'count'; fact: 'restarts'; op: '>' | '>=' | '<' | '<=' | '=='; n: number }
  | { kind: 'changed'; change: ChangeKind | 'any'; withinMs?: number };
export interface Term {
  not: boolean;
  atom: Atom;
  text: string;
}

const FLAG = /^evidence\.(oomKilled|crashLoop)$/;
const COUNT = /^evidence\.(restarts)\s*(>=|<=|==|>|<)\s*(\d{1,6})$/;
const CHANGED = /^changed\.([a-zA-Z]+)(?:\s+within\s+(\S+))?$/;

/** The condition's terms, or a message naming what is wrong. */
export function parseWhen(text: string): Term[] | { error: string } {
  const terms: Term[] = [];
  for (const raw of text.trim().split(/\s+and\s+/)) {
    const neg = /^not\s+/.exec(raw);
    const body = neg ? raw.slice(neg[0].length).trim() : raw.trim();
    let atom: Atom | undefined;
    let m: RegExpExecArray | null;
    if ((m = FLAG.exec(body))) atom = { kind: 'flag', fact: m[1] as 'oomKilled' | 'crashLoop' };
    else if ((m = COUNT.exec(body))) atom = { kind: 'count', fact: 'restarts', op: m[2] as '>=', n: Number(m[3]) };
    else if ((m = CHANGED.exec(body))) {
      const change = m[1]!;
      if (change !== 'any' && !(CHANGE_KINDS as readonly string[]).includes(change)) return { error: `"${body}": unknown change kind ${change} (one of ${[...CHANGE_KINDS, 'any'].join(', ')})` };
      if (m[2] !== undefined && !DURATION_PATTERN.test(m[2])) return { error: `"${body}": ${m[2]} is not a duration like 30m` };
      atom = { kind: 'changed', change: change as ChangeKind | 'any', ...(m[2] !== undefined ? { withinMs: toMs(m[2]) } : {}) };
    }
    if (!atom) return { error: `"${body}" is not a condition: use evidence.oomKilled, evidence.crashLoop, evidence.restarts >= N or changed.<kind> [within <duration>], joined by "and", each optionally with "not"` };
    terms.push({ not: neg !== null, atom, text: raw.trim() });
  }
  return terms;
}

export const whenProblem = (text: string): string | undefined => {
  const r = parseWhen(text);
  return 'error' in r ? r.error : undefined;
};

const compare = (a: number, op: string, b: number): boolean => (op === '>' ? a > b : op === '>=' ? a >= b : op === '<' ? a < b : op === '<=' ? a <= b : a === b);

function atomHolds(a: Atom, f: EvidenceFacts, now: number): { holds: boolean; seen: string } {
  switch (a.kind) {
    case 'flag':
      return { holds: f[a.fact], seen: `${a.fact}=${f[a.fact]}` };
    case 'count':
      return { holds: compare(f.restarts, a.op, a.n), seen: `restarts=${f.restarts}` };
    case 'changed': {
      const at = f.changed[a.change];
      if (at === undefined) return { holds: false, seen: `no ${a.change} change seen` };
      const ago = Math.max(0, now - at);
      const mins = Math.round(ago / 60_000);
      return { holds: a.withinMs === undefined || ago <= a.withinMs, seen: `${a.change} changed ${mins}m ago` };
    }
  }
}

/** Whether the condition holds for these facts at `now`, and what was seen (for the timeline). */
export function evaluateWhen(text: string, facts: EvidenceFacts, now: number): { holds: boolean; why: string } {
  const terms = parseWhen(text);
  if ('error' in terms) return { holds: false, why: terms.error };
  const seen: string[] = [];
  let holds = true;
  for (const t of terms) {
    const r = atomHolds(t.atom, facts, now);
    seen.push(r.seen);
    if (r.holds === t.not) holds = false;
  }
  return { holds, why: seen.join(', ') };
}
