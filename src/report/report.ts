// `medic report`: KPIs of a period against the previous period of the same length, from the
// incident store, plus noise per alert rule (incidents whose alert resolved by itself before
// medic acted) with threshold suggestions for the noisiest rules. Pure over store rows.
import type { IncidentRow } from '../store/store.js';
import { formatSloLines, type SloResult } from './slo.js';

export interface PeriodKpis {
  from: number;
  to: number;
  incidents: number;
  ended: number;
  autoResolved: number;
  escalated: number;
  /** Resolved by themselves before any action (false positives / noise). */
  noise: number;
  /** Seconds open → recovered, for incidents medic healed or that recovered after escalation. */
  mttr: { n: number; p50: number | null; mean: number | null };
  ttd: { n: number; p50: number | null; mean: number | null };
}

export interface RuleNoise {
  alertname: string;
  incidents: number;
  noise: number;
}

export interface Report {
  current: PeriodKpis;
  previous: PeriodKpis;
  rules: RuleNoise[];
  suggestions: string[];
  /** SLO compliance, when SLOs are configured (src/report/slo.ts). */
  slos?: SloResult[];
}

const pct = (n: number, of: number): number => (of === 0 ? 0 : (100 * n) / of);

function stats(values: number[]): { n: number; p50: number | null; mean: number | null } {
  if (values.length === 0) return { n: 0, p50: null, mean: null };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const p50 = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n: values.length, p50, mean: values.reduce((a, b) => a + b, 0) / values.length };
}

export function kpis(rows: IncidentRow[], from: number, to: number): PeriodKpis {
  const recovered = rows.filter((r) => (r.outcome_class === 'auto_resolved' || r.outcome_class === 'resolved_after_escalation') && r.ended_at !== null);
  return {
    from,
    to,
    incidents: rows.length,
    ended: rows.filter((r) => r.ended_at !== null).length,
    autoResolved: rows.filter((r) => r.outcome_class === 'auto_resolved').length,
    escalated: rows.filter((r) => r.escalated === 1 || r.outcome_class === 'escalated').length,
    noise: rows.filter((r) => r.outcome_class === 'resolved_before_action').length,
    mttr: stats(recovered.map((r) => (r.ended_at! - r.opened_at) / 1000)),
    ttd: stats(rows.flatMap((r) => (r.ttd_seconds === null || r.ttd_seconds === undefined ? [] : [r.ttd_seconds]))),
  };
}

/** Noise per alert rule, noisiest first; a rule is worth a suggestion at ≥ 2 noisy incidents
 * making up at least half of its incidents. */
export function noiseByRule(rows: IncidentRow[]): RuleNoise[] {
  const by = new Map<string, RuleNoise>();
  for (const r of rows) {
    const e = by.get(r.alertname) ?? { alertname: r.alertname, incidents: 0, noise: 0 };
    e.incidents += 1;
    if (r.outcome_class === 'resolved_before_action') e.noise += 1;
    by.set(r.alertname, e);
  }
  return [...by.values()].sort((a, b) => b.noise / b.incidents - a.noise / a.incidents || b.noise - a.noise || a.alertname.localeCompare(b.alertname));
}

export function suggestions(rules: RuleNoise[], max = 3): string[] {
  return rules
    .filter((r) => r.noise >= 2 && r.noise * 2 >= r.incidents)
    .slice(0, max)
    .map((r) => `${r.alertname}: ${r.noise} of ${r.incidents} incidents resolved by themselves before any action — consider a longer \`for:\` or a higher threshold`);
}

export function buildReport(current: IncidentRow[], previous: IncidentRow[], from: number, to: number): Report {
  const rules = noiseByRule(current);
  return { current: kpis(current, from, to), previous: kpis(previous, from - (to - from), from), rules, suggestions: suggestions(rules) };
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? ` ${Math.floor((s % 86400) / 3600)}h` : ''}`;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const change = (a: number, b: number): string => (a === b ? '=' : a > b ? `+${a - b}` : `${a - b}`);
const ofPct = (n: number, of: number): string => `${n} (${pct(n, of).toFixed(1)}%)`;
const timing = (t: PeriodKpis['mttr']): string => (t.n === 0 ? '—' : `${formatDuration(t.p50)} / ${formatDuration(t.mean)} (n=${t.n})`);

export function formatReport(r: Report, periodLabel: string): string {
  const { current: c, previous: p } = r;
  const row = (name: string, a: string, b: string, d = ''): string => `  ${name.padEnd(26)} ${a.padStart(18)} ${b.padStart(18)}  ${d}`.trimEnd();
  const lines = [
    `medic report: ${day(c.from)} → ${day(c.to)} UTC (${periodLabel}) vs the previous ${periodLabel}`,
    '',
    row('', 'this period', 'previous', 'change'),
    row('incidents', String(c.incidents), String(p.incidents), change(c.incidents, p.incidents)),
    row('auto-resolved', ofPct(c.autoResolved, c.incidents), ofPct(p.autoResolved, p.incidents), change(c.autoResolved, p.autoResolved)),
    row('escalated', ofPct(c.escalated, c.incidents), ofPct(p.escalated, p.incidents), change(c.escalated, p.escalated)),
    row('false positives (noise)', ofPct(c.noise, c.incidents), ofPct(p.noise, p.incidents), change(c.noise, p.noise)),
    row('MTTR p50 / mean', timing(c.mttr), timing(p.mttr)),
    row('TTD p50 / mean', timing(c.ttd), timing(p.ttd)),
    '',
  ];
  if (r.slos && r.slos.length > 0) lines.push(...formatSloLines(r.slos), '');
  if (r.rules.length === 0) lines.push('no incidents in this period');
  else {
    lines.push('noise per alert rule (this period): resolved by itself before any action');
    for (const x of r.rules) lines.push(`  ${x.alertname.padEnd(32)} ${x.noise} of ${x.incidents} (${pct(x.noise, x.incidents).toFixed(0)}%)`);
  }
  if (r.suggestions.length > 0) lines.push('', 'suggestions:', ...r.suggestions.map((s) => `  ${s}`));
  return lines.join('\n');
}
