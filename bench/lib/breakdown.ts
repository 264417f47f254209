// Where the time between an alert and its action's start goes, per run: marks taken in this
// process (the POST sent, signalWithStart called and returned, the activity started on the
// worker) and the workflow history's own event times (same machine, same clock). Plus the
// percentiles and the printed table the latency benches share.
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { tsToMs } from '@temporalio/common/lib/time.js';
import type { Distribution } from './results.js';
import { now, pct } from './temporal.js';

export const STAGES = {
  intake: 'HTTP POST + intake parse/validate/route, until signalWithStart is called (timed in the server process)',
  startRpc: 'the signalWithStart (floor: start) RPC, called → returned',
  wftScheduleToStart: 'workflow task(s) scheduled → started (history), summed up to the action',
  wftProcessing: 'workflow task(s) started → completed (history; includes local activities), summed',
  otherActivities: 'activities before the action, scheduled → completed (history), summed',
  activityScheduleToStart: "the action's activity task scheduled → started (history)",
  activityStart: "the action's activity started (history) → its code runs on the worker (interceptor)",
  unattributed: 'total minus the stages above (negative: the stages overlap; the first workflow task is scheduled inside the start RPC)',
  total: 'request sent → action activity started on the worker',
} as const;
export type Stage = keyof typeof STAGES;
export type Breakdown = Partial<Record<Stage, number>>;

/** Client interceptor recording when signalWithStart / start was called and returned, per workflow id. */
export function rpcMarks(): { interceptor: WorkflowClientInterceptor; marks: Map<string, { called: number; returned: number }> } {
  const marks = new Map<string, { called: number; returned: number }>();
  const timed = async <T>(id: string, call: () => Promise<T>): Promise<T> => {
    const called = now();
    const r = await call();
    marks.set(id, { called, returned: now() });
    return r;
  };
  return {
    marks,
    interceptor: {
      signalWithStart: (input, next) => timed(input.options.workflowId, () => next(input)),
      startWithDetails: (input, next) => timed(input.options.workflowId, () => next(input)),
    },
  };
}

/** The stages of one run: `sent` when the request left, `rpc` the start call's marks, `started` when
 * the action (activity type `action`, or 'local' for a local activity in the first workflow task)
 * began on the worker, `history` the workflow's events. */
export function breakdown(o: { sent: number; rpc?: { called: number; returned: number }; started: number; history: History; action: string }): Breakdown {
  const b: Breakdown = { total: o.started - o.sent, wftScheduleToStart: 0, wftProcessing: 0, otherActivities: 0 };
  if (o.rpc) Object.assign(b, { intake: o.rpc.called - o.sent, startRpc: o.rpc.returned - o.rpc.called });
  const t = new Map<number, number>(); // event id → time
  const activityType = new Map<number, string>(); // scheduled event id → type
  let actionScheduled = false; // after it, only the action's own started event counts
  for (const e of o.history.events ?? []) {
    const id = Number(e.eventId);
    const at = tsToMs(e.eventTime);
    t.set(id, at);
    const started = e.workflowTaskStartedEventAttributes;
    if (started && !actionScheduled) b.wftScheduleToStart! += at - t.get(Number(started.scheduledEventId))!;
    if (started && o.action === 'local') {
      // A local activity runs inside the first workflow task, which completes only after it.
      b.activityStart = o.started - at;
      break;
    }
    if (e.workflowTaskCompletedEventAttributes && !actionScheduled) b.wftProcessing! += at - t.get(Number(e.workflowTaskCompletedEventAttributes.startedEventId))!;
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) activityType.set(id, scheduled.activityType?.name ?? '');
    if (scheduled?.activityType?.name === o.action) actionScheduled = true;
    const completed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    if (completed && !actionScheduled) b.otherActivities! += at - t.get(Number(completed.scheduledEventId))!;
    const s = e.activityTaskStartedEventAttributes;
    if (s && activityType.get(Number(s.scheduledEventId)) === o.action) {
      // The started event is written when the attempt ends, with the start's time.
      b.activityScheduleToStart = at - t.get(Number(s.scheduledEventId))!;
      b.activityStart = o.started - at;
      break;
    }
  }
  const sum = (Object.keys(b) as Stage[]).filter((k) => k !== 'total').reduce((a, k) => a + (b[k] ?? 0), 0);
  b.unattributed = b.total! - sum;
  return b;
}

const round = (x: number): number => Math.round(x * 10) / 10;
export const statsOf = (xs: number[]): Distribution => ({ n: xs.length, p50Ms: round(pct(xs, 50)), p99Ms: round(pct(xs, 99)), maxMs: round(Math.max(...xs)) });

/** p50/p99 of each stage over the runs (stages no run had are left out). */
export function stageStats(runs: Breakdown[]): Partial<Record<Stage, Distribution>> {
  const out: Partial<Record<Stage, Distribution>> = {};
  for (const s of Object.keys(STAGES) as Stage[]) {
    const xs = runs.map((r) => r[s]).filter((x): x is number => x !== undefined);
    if (xs.length) out[s] = statsOf(xs);
  }
  return out;
}

/** Prints rows as one table (first column padded) and returns it. */
export function printTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows].map((r) => r.map(String));
  const width = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const text = cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ')).join('\n');
  console.log(text);
  return text;
}
