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

/** npm run bench:storm -- --curve — the intake's knee: at each offered rate, one alert per POST
 * and Alertmanager-style batches, what the intake accepted and how fast it answered. */
export const StormPointSchema = z.object({
  shape: z.enum(['single', 'batched']).describe('single: one alert per POST; batched: Alertmanager-style notifications of many alerts'),
  alertsPerPost: z.number().int().positive(),
  offered: z.number().min(0).describe('alerts/s offered (open loop)'),
  accepted: z.number().min(0).describe('alerts accepted per second of sending'),
  p50Ms: ms().describe('intake p50, POST → response'),
  p99Ms: ms().describe('intake p99, POST → response'),
  refused: z.number().int().min(0).describe('alerts refused (non-202) or whose POST failed'),
  lost: z.number().int().min(0).describe("accepted alerts missing from their incident's alertsReceived"),
  unaccounted: z.number().int().min(0).describe('alerts of incidents whose status query never answered (neither found nor lost)'),
  senderLagP99Ms: ms().optional().describe("p99 of the load generator's lag behind its schedule"),
  appliedAfterSeconds: z.number().min(0).describe('seconds after the last response until every accepted alert was counted in its incident'),
  load1: z.number().min(0).describe("the machine's 1-minute load average when the point started"),
  sustained: z.boolean().describe('≥ 95 % of the offered rate accepted, nothing refused, lost or unaccounted'),
  p99UnderLimit: z.boolean().describe('intake p99 under intakeP99LimitMs'),
});
export type StormPoint = z.infer<typeof StormPointSchema>;

export const StormResultSchema = z.object({
  ...base,
  complete: z.boolean().describe('false: the run was cut short (the file is rewritten after every point), so the curve is partial and no knee is given'),
  settings: SettingsSchema,
  intakeP99LimitMs: z.number().positive().describe('the intake p99 a sustained rate must stay under'),
  points: z.array(StormPointSchema).min(1),
  knees: z
    .object({ single: z.number().min(0).nullable(), batched: z.number().min(0).nullable() })
    .optional()
    .describe('per shape: the highest offered rate, climbing from the lowest, up to which every point was sustained with p99 under the limit (null: not even the lowest); absent in a partial run'),
});
export type StormResult = z.infer<typeof StormResultSchema>;

/** npm run bench:capacity — incidents waiting for approval across worker processes, memory per
 * worker, then all approved and resolved. A run that failed or ran out of time says how far it got
 * (`incomplete`); what it did not reach is absent. */
const secsOpt = () => z.number().min(0).optional();
export const CapacityResultSchema = z.object({
  ...base,
  settings: SettingsSchema.default({}),
  incidents: z.number().int().min(0).describe('incidents the run opens (CAPACITY_N)'),
  workerProcesses: z.number().int().positive(),
  incomplete: z.string().optional().describe('why and where a run stopped short (absent: it completed)'),
  openedSeconds: secsOpt().describe('all incidents opened and waiting for approval'),
  callsMadeAgain: z.number().int().min(0).optional().describe('calls an overloaded server failed, made again'),
  workers: z
    .array(
      z.object({
        name: z.string(),
        idleMiB: z.number().min(0).optional(),
        waitingMiB: z.number().min(0).optional().describe('with every incident waiting for approval'),
        peakMiB: z.number().min(0),
      }),
    )
    .min(1)
    .describe('resident memory per worker process (from /proc)'),
  approveSeconds: secsOpt().describe('first approval → every decide Update accepted'),
  drainSeconds: secsOpt().describe('first approval → all acted and resolved'),
  resolved: z.number().int().min(0).optional(),
  lost: z.number().int().min(0).nullable().describe('incidents whose action was never applied (null: the run did not get that far)'),
  appliedTwice: z.number().int().min(0).optional(),
  goal: goal({ rssMiB: z.number().describe('goal: each worker below this RSS (and nothing lost or applied twice)') }),
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
