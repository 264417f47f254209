// The pure parts of bench/compare-executor.ts: percentiles, the kill tally, the results file
// (bench/results/compare-executor.json, a zod schema) and the table rendered from it, which the
// README's performance section carries (bench/lib/readme.ts).
import { z } from 'zod';

/** Nearest-rank percentile (p in 0..100) of a non-empty sample. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new Error('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile: p must be in 0..100 (got ${p})`);
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1))]!;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export const LatencySchema = z.object({
  alerts: z.number().int().min(0).describe('alerts whose action was received at the target'),
  lost: z.number().int().min(0).describe('alerts whose action never arrived within the wait'),
  p50Ms: z.number(),
  p99Ms: z.number(),
  maxMs: z.number(),
});
export type Latency = z.infer<typeof LatencySchema>;

/** p50/p99/max of the alert → action received times (ms); `lost` alerts never arrived. */
export function summarize(ms: readonly number[], lost: number): Latency {
  return { alerts: ms.length, lost, p50Ms: round1(percentile(ms, 50)), p99Ms: round1(percentile(ms, 99)), maxMs: round1(Math.max(...ms)) };
}

export const KillTallySchema = z.object({
  kills: z.number().int().min(0),
  lost: z.number().int().min(0).describe('alerts whose action never reached the target'),
  doubled: z.number().int().min(0).describe('alerts whose action reached the target more than once'),
  appliedTwice: z.number().int().min(0).describe('alerts whose action arrived under more than one Idempotency-Key: the target applies it again'),
});
export type KillTally = z.infer<typeof KillTallySchema>;

/** Per killed alert, the Idempotency-Keys of the requests the target received for it (one entry
 * per arrival) → lost (none), doubled (more than one arrival), applied twice (distinct keys). */
export function tallyKills(arrivals: readonly (readonly string[])[]): KillTally {
  return {
    kills: arrivals.length,
    lost: arrivals.filter((a) => a.length === 0).length,
    doubled: arrivals.filter((a) => a.length > 1).length,
    appliedTwice: arrivals.filter((a) => new Set(a).size > 1).length,
  };
}

export const CompareResultSchema = z.object({
  date: z.string().describe('ISO time the run finished'),
  machine: z.object({ cores: z.number().int().positive(), cpu: z.string(), loadBefore: z.string(), loadAfter: z.string() }),
  settings: z.object({
    alertsPerSystem: z.number().int().positive(),
    warmup: z.number().int().min(0),
    delivery: z.string().describe('how the alerts reached both receivers'),
    killsPerSystem: z.number().int().min(0),
    remediateDelayMs: z.number().int().min(0).describe("the target's hold time in the kill phase: the window the kill lands in"),
    engine: z.string().optional().describe('the Temporal server medic ran on and its dynamic config (absent in runs before it was recorded)'),
  }),
  latency: z.object({ executor: LatencySchema, medic: LatencySchema }),
  kill: z.object({ executor: KillTallySchema, medic: KillTallySchema }),
  ratio: z.object({ p50: z.number(), p99: z.number(), max: z.number() }).describe('medic ÷ am-executor, alert → action received'),
  goal: z.object({ ratioP99: z.number().describe('goal: medic p99 at most this many times am-executor p99'), met: z.boolean() }),
});
export type CompareResult = z.infer<typeof CompareResultSchema>;

const ms = (x: number): string => `${x.toFixed(1)} ms`;
const times = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** The ratios and the goal (medic p99 ≤ 3× am-executor), stored with the figures. */
export function comparison(latency: CompareResult['latency']): Pick<CompareResult, 'ratio' | 'goal'> {
  const { executor: e, medic: m } = latency;
  const r = (a: number, b: number): number => (b > 0 ? round2(a / b) : Number.POSITIVE_INFINITY);
  return { ratio: { p50: r(m.p50Ms, e.p50Ms), p99: r(m.p99Ms, e.p99Ms), max: r(m.maxMs, e.maxMs) }, goal: { ratioP99: 3, met: m.p99Ms <= 3 * e.p99Ms } };
}

/** The comparison as a Markdown table (settings and machine first, then the figures). */
export function renderTable(r: CompareResult): string {
  const { executor: e, medic: m } = r.latency;
  const { executor: ke, medic: km } = r.kill;
  const rows: [string, string, string, string][] = [
    ['alert → action received, p50', ms(e.p50Ms), ms(m.p50Ms), times(r.ratio.p50)],
    ['alert → action received, p99', ms(e.p99Ms), ms(m.p99Ms), `${times(r.ratio.p99)} (goal ≤ ${r.goal.ratioP99}×: ${r.goal.met ? 'met' : 'NOT met'})`],
    ['alert → action received, max', ms(e.maxMs), ms(m.maxMs), times(r.ratio.max)],
    ['alerts timed (not arrived)', `${e.alerts} (${e.lost})`, `${m.alerts} (${m.lost})`, ''],
    [`SIGKILL mid-action ×${ke.kills}/${km.kills}: actions lost`, String(ke.lost), String(km.lost), ''],
    ['… actions received twice', String(ke.doubled), String(km.doubled), ''],
    ['… applied twice (new Idempotency-Key)', String(ke.appliedTwice), String(km.appliedTwice), ''],
  ];
  const s = r.settings;
  return [
    `${r.date} · ${r.machine.cores} cores (${r.machine.cpu}) · load before: ${r.machine.loadBefore} · after: ${r.machine.loadAfter}`,
    `${s.alertsPerSystem} alerts per system after ${s.warmup} warm-up, alternating one of each; ${s.delivery}; kill phase: target holds each action ${s.remediateDelayMs} ms, process killed once the target has it${s.engine ? `; medic on ${s.engine}` : ''}`,
    '',
    '| | prometheus-am-executor | medic | medic ÷ am-executor |',
    '| --- | --- | --- | --- |',
    ...rows.map((c) => `| ${c.join(' | ')} |`),
  ].join('\n');
}
