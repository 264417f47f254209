// The digest: `medic report`'s KPIs (MTTR, TTD, auto-resolved %, false-positive rate) and SLO
// compliance for a period against the previous one, as text for the terminal (`medic report
// --weekly`) and as a Slack message (the weekly schedule). Built from the incident store and
// Prometheus; pure apart from those two reads.
import type { KnownBlock } from '@slack/web-api';
import { buildReport, formatDuration, type PeriodKpis, type Report } from '../report/report.js';
import { evaluateSlos, formatSloLines, type Slo, type SloResult } from '../report/slo.js';
import type { IncidentStore } from '../store/store.js';

export interface DigestSources {
  store: IncidentStore;
  slos?: readonly Slo[];
  prometheusUrl?: string | undefined;
  fetch?: typeof fetch;
}

export interface Digest {
  report: Report;
  slos: SloResult[];
  /** Why SLOs are missing, when they are configured but cannot be evaluated. */
  sloProblem?: string;
  text: string;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const pct = (n: number, of: number): string => (of === 0 ? '—' : `${((100 * n) / of).toFixed(1)}%`);
const mean = (t: PeriodKpis['mttr']): string => (t.n === 0 ? '—' : `${formatDuration(t.mean)} (p50 ${formatDuration(t.p50)}, n=${t.n})`);

export function digestText(report: Report, slos: readonly SloResult[], sloProblem?: string): string {
  const { current: c, previous: p } = report;
  const row = (name: string, a: string, b: string): string => `${name.padEnd(22)} ${a.padEnd(26)} ${b}`.trimEnd();
  const lines = [
    `medic digest ${day(c.from)} → ${day(c.to)} (vs ${day(p.from)} → ${day(p.to)})`,
    row('', 'this period', 'previous'),
    row('incidents', String(c.incidents), String(p.incidents)),
    row('MTTR (mean)', mean(c.mttr), mean(p.mttr)),
    row('TTD (mean)', mean(c.ttd), mean(p.ttd)),
    row('auto-resolved', `${c.autoResolved} (${pct(c.autoResolved, c.incidents)})`, `${p.autoResolved} (${pct(p.autoResolved, p.incidents)})`),
    row('false-positive rate', `${c.noise} (${pct(c.noise, c.incidents)})`, `${p.noise} (${pct(p.noise, p.incidents)})`),
    row('escalated', `${c.escalated} (${pct(c.escalated, c.incidents)})`, `${p.escalated} (${pct(p.escalated, p.incidents)})`),
  ];
  if (slos.length > 0) lines.push('', ...formatSloLines(slos));
  else if (sloProblem) lines.push('', `SLO compliance: ${sloProblem}`);
  if (report.suggestions.length > 0) lines.push('', 'noisiest alert rules:', ...report.suggestions.map((s) => `  ${s}`));
  return lines.join('\n');
}

export async function buildDigest(src: DigestSources, from: number, to: number): Promise<Digest> {
  const [current, previous] = await Promise.all([src.store.openedBetween(from, to), src.store.openedBetween(from - (to - from), from)]);
  const report = buildReport(current, previous, from, to);
  const configured = src.slos ?? [];
  let slos: SloResult[] = [];
  let sloProblem: string | undefined;
  if (configured.length > 0 && !src.prometheusUrl) sloProblem = `${configured.length} SLO(s) configured but no prometheus.url to evaluate them`;
  else if (configured.length > 0) slos = await evaluateSlos(src.prometheusUrl!, configured, from, to, src.fetch);
  return { report: { ...report, slos }, slos, ...(sloProblem ? { sloProblem } : {}), text: digestText(report, slos, sloProblem) };
}

/** Slack allows 3000 characters per section: the digest goes in a code block, cut to fit. */
export function digestMessage(d: Digest): { text: string; blocks: KnownBlock[] } {
  const body = d.text.length > 2_900 ? `${d.text.slice(0, 2_880)}\n…(cut)` : d.text;
  return {
    text: d.text.split('\n')[0]!,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'medic weekly digest' } },
      { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${body}\`\`\`` } },
    ],
  };
}
