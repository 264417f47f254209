// The shapes of bench/results/<name>.json: one zod schema per bench, the single source of truth
// for what a bench writes and what the README's performance section is generated from
// (bench/lib/readme.ts). Every file records when it ran, the machine and its load (the machine is
// shared: figures taken under load say so), the settings, and figures that each compare against a
// baseline measured in the same run. Derived figures (ratios, goals met) are stored too, so every
// number the README shows is one the bench wrote (test/unit/bench-readme.test.ts checks it).
import { z } from 'zod';

export const MachineSchema = z.object({
  cores: z.number().int().positive(),
  cpu: z.string(),
  loadBefore: z.string().describe('load averages (1, 5, 15 min, from uptime) before the run'),
  loadAfter: z.string().describe('load averages after the run'),
});
export type Machine = z.infer<typeof MachineSchema>;

/** Settings a bench ran with, printed as "key value; …" (free-form: each bench has its own). */
export const SettingsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).describe('what the run was configured with');

const base = {
  date: z.string().describe('ISO time the run finished'),
  machine: MachineSchema,
};

const ms = () => z.number().min(0);
export const DistributionSchema = z.object({
  n: z.number().int().min(0).describe('samples timed'),
  p50Ms: ms(),
  p99Ms: ms(),
  maxMs: ms(),
});
export type Distribution = z.infer<typeof DistributionSchema>;

const goal = <T extends z.ZodRawShape>(shape: T) => z.object({ ...shape, met: z.boolean() });

/** npm run bench:latency — alert received → first action activity started, against the floor
 * (a bare workflow start → its first activity) under the same server and SDK settings. */
export const LatencyResultSchema = z.object({
  ...base,
  settings: SettingsSchema,
  rows: z
    .array(
      z.object({
        configuration: z.string().describe('the server and SDK settings of this row (persistence, pollers, eager start, …)'),
        durable: z.boolean().describe('the server persists to a file (not in memory)'),
        floor: DistributionSchema.describe('bare workflow start → its first activity started'),
        medic: DistributionSchema.optional().describe('alert received → first action activity started (absent: a floor-only configuration, one medic cannot take)'),
        ratioP99: z.number().optional().describe('medic p99 ÷ floor p99'),
      }),
    )
    .min(1),
  breakdown: z
    .array(z.object({ phase: z.string().describe('a stretch of the path (intake parse, signalWithStart RPC, …), prefixed with the configuration and path it was measured on'), p50Ms: ms(), p99Ms: ms() }))
    .default([])
    .describe('where the time goes on the path, in order'),
  goal: goal({ p99Ms: z.number().describe('goal: alert → action started p99 at most this on a durable server'), configuration: z.string().describe('the row the goal is judged on') }),
});
export type LatencyResult = z.infer<typeof LatencyResultSchema>;

/** npm run bench:approval — a Slack Approve click → the approved action started, against a bare
 * Temporal Update round trip on a running workflow. */
const approvalFigures = {
  floor: DistributionSchema.describe('bare Update round trip'),
  click: DistributionSchema.describe('Approve click → approved action started'),
  ratioP99: z.number().describe('click p99 ÷ floor p99'),
};
export const ApprovalResultSchema = z.object({
  ...base,
  settings: SettingsSchema,
  configuration: z.string().default('').describe('the server settings the figures (and the goal) are for'),
  ...approvalFigures,
  others: z
    .array(z.object({ configuration: z.string(), ...approvalFigures }))
    .default([])
    .describe('the same figures for other configurations measured in the run (e.g. medic before)'),
  goal: goal({ p99Ms: z.number().describe('goal: click → action started p99 at most this') }),
});
export type ApprovalResult = z.infer<typeof ApprovalResultSchema>;

/** npm run bench:storm — the intake's knee: alerts/s sustained with intake p99 under the limit, at
 * each offered rate, one alert per POST and Alertmanager-style batches. */
export const StormResultSchema = z.object({
  ...base,
  settings: SettingsSchema,
  rows: z
    .array(
      z.object({
        delivery: z.string().describe('how alerts were posted: "one per POST", "batches of 50", "nats", …'),
        offeredPerSecond: z.number().min(0).describe('alerts/s offered (0: as fast as they go)'),
        alerts: z.number().int().min(0),
        acceptedPerSecond: z.number().min(0),
        intakeP50Ms: ms(),
        intakeP99Ms: ms(),
        incidents: z.number().int().min(0),
        lost: z.number().int().min(0).describe('alerts not accounted for in their incidents'),
        sustained: z.boolean().describe('accepted the offered rate with intake p99 under the limit, nothing lost'),
      }),
    )
    .min(1),
  knee: z
    .array(z.object({ delivery: z.string(), sustainedPerSecond: z.number().min(0).describe('highest rate sustained') }))
    .describe('per delivery: the highest offered rate sustained'),
  intakeP99LimitMs: z.number().describe('the intake p99 a sustained rate must stay under'),
});
export type StormResult = z.infer<typeof StormResultSchema>;

/** npm run bench:capacity — incidents waiting for approval across worker processes, memory per
 * worker, then all approved and resolved. */
export const CapacityResultSchema = z.object({
  ...base,
  settings: SettingsSchema,
  incidents: z.number().int().min(0),
  openedSeconds: z.number().min(0).describe('all incidents opened and waiting for approval'),
  workers: z
    .array(z.object({ name: z.string(), idleMiB: z.number().min(0), waitingMiB: z.number().min(0), peakMiB: z.number().min(0) }))
    .min(1)
    .describe('resident memory per worker process'),
  drainSeconds: z.number().min(0).describe('first approval → all acted and resolved'),
  resolved: z.number().int().min(0),
  appliedTwice: z.number().int().min(0),
  goal: goal({ rssMiB: z.number().describe('goal: each worker below this RSS') }),
});
export type CapacityResult = z.infer<typeof CapacityResultSchema>;

/** npm run bench:drill — medic's own share of a drill's MTTR (src/drills/overhead.ts): detected →
 * healed minus the action's own time, the verification and any wait for an approver (seconds). */
const secs = () => z.number().min(0);
export const DrillOverheadResultSchema = z.object({
  ...base,
  settings: SettingsSchema,
  runs: z
    .array(
      z.object({
        scenario: z.string(),
        detectToHealedSeconds: secs(),
        actionSeconds: secs().describe("the actions' own time (measured inside their activities)"),
        verificationSeconds: secs().describe('verification: the window and the probing until it held'),
        overheadSeconds: secs().describe("medic's own time: the rest"),
        largestGap: z.string().describe('the largest stretch of the overhead, between two timeline entries'),
      }),
    )
    .min(1),
  overheadP50Seconds: secs(),
  overheadMaxSeconds: secs(),
  goal: goal({ overheadSeconds: z.number().describe('goal: overhead at most this in every run') }),
});
export type DrillOverheadResult = z.infer<typeof DrillOverheadResultSchema>;
