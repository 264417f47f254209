// Markdown for each bench's results file (bench/lib/results.ts), as the README shows it. Only
// numbers from the file appear (rounded), so the README's figures are the bench's.
import type { ApprovalResult, CapacityResult, Distribution, DrillOverheadResult, LatencyResult, Machine, StormResult } from './results.js';

const ms = (x: number): string => `${x.toFixed(1)} ms`;
const times = (x: number): string => `${x.toFixed(2)}×`;
const metText = (met: boolean): string => (met ? 'met' : 'NOT met');
const table = (head: string[], rows: string[][]): string[] => [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
const settingsLine = (s: Record<string, string | number | boolean>): string =>
  Object.entries(s)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join('; ');

/** The run's header: when, the machine and its load, the settings. */
export const header = (r: { date: string; machine: Machine; settings?: Record<string, string | number | boolean> }): string[] => [
  `${r.date} · ${r.machine.cores} cores (${r.machine.cpu}) · load before: ${r.machine.loadBefore} · after: ${r.machine.loadAfter}`,
  ...(r.settings && Object.keys(r.settings).length > 0 ? [`settings: ${settingsLine(r.settings)}`] : []),
  '',
];
const dist = (d: Distribution): string[] => [ms(d.p50Ms), ms(d.p99Ms), ms(d.maxMs), String(d.n)];

export function renderLatency(r: LatencyResult): string {
  const rows = r.rows.flatMap((x) => [
    [`${x.configuration}${x.durable ? ' (durable)' : ''}: floor`, ...dist(x.floor), ''],
    ...(x.medic ? [[`${x.configuration}${x.durable ? ' (durable)' : ''}: medic`, ...dist(x.medic), x.ratioP99 === undefined ? '' : times(x.ratioP99)]] : []),
  ]);
  const out = [...header(r), ...table(['alert → action started', 'p50', 'p99', 'max', 'n', 'medic p99 ÷ floor p99'], rows)];
  if (r.breakdown.length > 0) out.push('', ...table(['where the time goes', 'p50', 'p99'], r.breakdown.map((b) => [b.phase, ms(b.p50Ms), ms(b.p99Ms)])));
  out.push('', `goal: alert → action started p99 ≤ ${r.goal.p99Ms} ms (${r.goal.configuration}): ${metText(r.goal.met)}`);
  return out.join('\n');
}

export function renderApproval(r: ApprovalResult): string {
  return [
    ...header(r),
    ...table(
      ['', 'p50', 'p99', 'max', 'n', 'click p99 ÷ floor p99'],
      [...r.others, r].flatMap((c) => {
        const at = c.configuration ? `${c.configuration}: ` : '';
        return [
          [`${at}floor (bare Update round trip)`, ...dist(c.floor), ''],
          [`${at}click → approved action started`, ...dist(c.click), times(c.ratioP99)],
        ];
      }),
    ),
    '',
    `goal: click → action started p99 ≤ ${r.goal.p99Ms} ms${r.configuration ? ` (${r.configuration})` : ''}: ${metText(r.goal.met)}`,
  ].join('\n');
}

const dash = '—';
const opt = <T>(x: T | null | undefined, f: (v: T) => string): string => (x === undefined || x === null ? dash : f(x));
const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

export function renderStorm(r: StormResult): string {
  const rows = r.points.map((p) => [
    p.shape === 'single' ? `${p.alertsPerPost} alert per POST` : `${p.alertsPerPost} alerts per POST`,
    `${p.offered}/s`,
    `${p.accepted}/s`,
    ms(p.p50Ms),
    ms(p.p99Ms),
    String(p.refused),
    String(p.lost),
    String(p.unaccounted),
    `${p.appliedAfterSeconds.toFixed(1)} s`,
    p.load1.toFixed(2),
    yesNo(p.sustained),
    yesNo(p.p99UnderLimit),
  ]);
  const knee = (k: number | null | undefined): string => (k === undefined ? dash : k === null ? 'none sustained' : `${k}/s`);
  return [
    ...(r.complete ? [] : ['**Partial run**: cut short before every point was measured; no knee.', '']),
    ...header(r),
    ...table(['shape', 'offered', 'accepted', 'intake p50', 'intake p99', 'refused', 'lost', 'unaccounted', 'all applied after', 'load (1 min)', 'sustained', `p99 < ${r.intakeP99LimitMs} ms`], rows),
    '',
    `knee (highest offered rate sustained with intake p99 < ${r.intakeP99LimitMs} ms, nothing lost): single ${knee(r.knees?.single)}; batched ${knee(r.knees?.batched)}`,
  ].join('\n');
}

export function renderCapacity(r: CapacityResult): string {
  const s = (x: number): string => `${x.toFixed(1)} s`;
  const mib = (x: number): string => `${x.toFixed(0)} MiB`;
  return [
    ...(r.incomplete ? [`**Incomplete run**: ${r.incomplete}`, ''] : []),
    ...header(r),
    ...table(
      ['incidents', 'worker processes', 'opened, all waiting', 'approve all', 'drain', 'resolved', 'lost', 'applied twice', 'calls made again'],
      [[String(r.incidents), String(r.workerProcesses), opt(r.openedSeconds, s), opt(r.approveSeconds, s), opt(r.drainSeconds, s), opt(r.resolved, String), opt(r.lost, String), opt(r.appliedTwice, String), opt(r.callsMadeAgain, String)]],
    ),
    '',
    ...table(
      ['worker', 'RSS idle', 'RSS all waiting', 'RSS peak', `peak < ${r.goal.rssMiB} MiB`],
      r.workers.map((w) => [w.name, opt(w.idleMiB, mib), opt(w.waitingMiB, mib), mib(w.peakMiB), yesNo(w.peakMiB < r.goal.rssMiB)]),
    ),
    '',
    `goal: each worker's RSS < ${r.goal.rssMiB} MiB, none lost or applied twice: ${metText(r.goal.met)}`,
  ].join('\n');
}

export function renderDrillOverhead(r: DrillOverheadResult): string {
  const s = (x: number): string => `${x.toFixed(2)} s`;
  return [
    ...header(r),
    ...table(
      ['drill', 'detected → healed', 'action', 'verification', 'overhead', 'largest gap in the overhead'],
      r.runs.map((x) => [x.scenario, s(x.detectToHealedSeconds), s(x.actionSeconds), s(x.verificationSeconds), s(x.overheadSeconds), x.largestGap]),
    ),
    '',
    `overhead p50 ${s(r.overheadP50Seconds)}, max ${s(r.overheadMaxSeconds)}; goal ≤ ${s(r.goal.overheadSeconds)} in every run: ${metText(r.goal.met)}`,
  ].join('\n');
}
