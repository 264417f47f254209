// MTTR overhead from an incident's typed timeline (src/drills/overhead.ts): detected → healed minus
// the actions' own time, the verification and approval waits; where the rest went; and the line
// `medic drill` prints.
import { describe, expect, it } from 'vitest';
import { mttrOverhead } from '../../src/drills/overhead.js';
import { formatDrillReport, formatOverhead } from '../../src/drills/report.js';
import { entry, type NewEntry, type TimelineEntry } from '../../workflows/contracts-timeline.js';
import type { DrillReport } from '../../workflows/contracts-drill.js';

const T = 1_800_000_000_000;
/** A timeline from [ms after T, entry] pairs, numbered in order. */
const timeline = (...xs: [number, NewEntry][]): TimelineEntry[] => xs.map(([ms, e], seq) => ({ ...e, seq, at: T + ms }) as TimelineEntry);

const opened = (receivedAfter?: number): NewEntry =>
  entry.alertOpened({ message: 'opened', data: { detection: { source: 'alertmanager', ...(receivedAfter !== undefined ? { receivedAt: T + receivedAfter } : {}) } } });
const gate = (step = 0): NewEntry => entry.gatePassed({ message: 'gates', step, data: { decisions: [] } });
const started = (step = 0, tryN = 1, dryRun = false): NewEntry =>
  entry.actionStarted({ message: 'started', step, data: { idempotencyKey: `k-${step}-${tryN}`, stepName: `s${step}`, try: tryN, dryRun, action: 'http' } });
const succeeded = (step: number, durationMs?: number): NewEntry =>
  entry.actionSucceeded({ message: 'finished', step, data: { dryRun: false, ...(durationMs !== undefined ? { durationMs } : {}), output: {} } });
const failed = (step = 0): NewEntry => entry.actionFailed({ message: 'failed', step, data: {} });
const verifying = (step = 0): NewEntry => entry.verificationStarted({ message: 'verifying', step, data: {} });
const probeFailed = (step = 0): NewEntry => entry.verificationProbeFailed({ message: 'probe failed', step, data: {} });
const verified = (step = 0): NewEntry => entry.verificationPassed({ message: 'verified', step, data: {} });
const unverified = (step = 0): NewEntry => entry.verificationFailed({ message: 'verification failed', step, data: {} });
const resolved = (outcome = 'healed by step 1', unverifiedStep?: number): NewEntry =>
  entry.resolution({ message: `resolved: ${outcome}`, data: { status: 'resolved', outcome, ...(unverifiedStep !== undefined ? { unverifiedStep } : {}) } });
/** One try of a step that passes its gates and succeeds (durationMs of its own), then verification
 * starts: gate passed, action started, finished and verifying at the four times given. */
const successfulTry = (step: number, tryN: number, durationMs: number, [gateAt, startAt, doneAt, verifyAt]: [number, number, number, number]): [number, NewEntry][] => [
  [gateAt, gate(step)],
  [startAt, started(step, tryN)],
  [doneAt, succeeded(step, durationMs)],
  [verifyAt, verifying(step)],
];

type Want = { total: number; action: number; verification: number; approval?: number; overhead: number; largest?: string };
const cases: { name: string; tl: TimelineEntry[]; want: Want }[] = [
  {
    name: 'one step, verified: the action beyond its own 40 ms is dispatch (overhead)',
    tl: timeline([100, opened(0)], ...successfulTry(0, 1, 40, [200, 300, 400, 410]), [1_910, verified()], [1_910, resolved()]),
    want: { total: 1.91, action: 0.04, verification: 1.5, overhead: 0.37, largest: 'alert received → alert.opened 0.10s' },
  },
  {
    name: 'a verification retry: both tries of the action and both verifications are subtracted',
    tl: timeline(
      [50, opened(0)],
      ...successfulTry(0, 1, 100, [100, 150, 250, 260]),
      [300, probeFailed()],
      [20_260, unverified()],
      [20_300, entry.actionRetrying({ message: 'retry', data: { reason: 'verification failed', step: 0, try: 2 } })],
      ...successfulTry(0, 2, 80, [20_400, 20_500, 20_600, 20_610]),
      [22_110, verified()],
      [22_110, resolved()],
    ),
    // total 22.11 − action 0.18 − verification (20.00 + 1.50) = 0.43
    want: { total: 22.11, action: 0.18, verification: 21.5, overhead: 0.43 },
  },
  {
    name: 'multi-step: a failed action counts whole (no own time measured), the next step heals',
    tl: timeline(
      [0, opened()],
      [100, gate(0)],
      [200, started(0)],
      [1_200, failed(0)],
      [1_250, entry.actionMovedOn({ message: 'next', data: { reason: 'action failed', step: 1 } })],
      ...successfulTry(1, 1, 90, [1_300, 1_400, 1_500, 1_500]),
      [2_500, verified(1)],
      [2_500, resolved('healed by step 2')],
    ),
    // no receivedAt: detected at alert.opened; action 1.0 + 0.09; verification 1.0
    want: { total: 2.5, action: 1.09, verification: 1.0, overhead: 0.41 },
  },
  {
    name: 'a wait for approvers is not overhead; the decision → action start is',
    tl: timeline(
      [20, opened(0)],
      [100, gate()],
      [120, entry.approvalRequested({ message: 'approve?', step: 0, data: { request: { step: 0, stepName: 's0', what: 'x', risk: 'high', approvers: ['a'], fourEyes: false, requestedAt: T, expiresAt: T + 1 } } })],
      [60_120, entry.approvalDecided({ message: 'approved', step: 0, data: { decision: 'approve', by: 'a' } })],
      [60_320, started()],
      [60_330, succeeded(0, 10)],
      [60_330, resolved('s0 succeeded (no verification configured)', 0)],
    ),
    want: { total: 60.33, action: 0.01, verification: 0, approval: 60, overhead: 0.32, largest: 'approval.decided → action.started 0.20s' },
  },
  {
    name: 'an entry from before durationMs was recorded: the whole action span is the action',
    tl: timeline([0, opened(0)], [100, started()], [600, succeeded(0)], [600, verifying()], [1_600, verified()], [1_600, resolved()]),
    want: { total: 1.6, action: 0.5, verification: 1.0, overhead: 0.1 },
  },
  {
    name: 'over the goal: the largest gap says where the time went',
    tl: timeline([3_000, opened(0)], ...successfulTry(0, 1, 100, [3_100, 3_200, 3_300, 3_300]), [4_300, verified()], [4_300, resolved()]),
    want: { total: 4.3, action: 0.1, verification: 1.0, overhead: 3.2, largest: 'alert received → alert.opened 3.00s' },
  },
];

describe('mttrOverhead', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = mttrOverhead(c.tl);
      if (!('overhead' in r)) throw new Error(`no overhead: ${r.unknown}`);
      const o = r.overhead;
      expect(o.detectToHealedSeconds).toBeCloseTo(c.want.total, 3);
      expect(o.actionSeconds).toBeCloseTo(c.want.action, 3);
      expect(o.verificationSeconds).toBeCloseTo(c.want.verification, 3);
      expect(o.approvalSeconds).toBeCloseTo(c.want.approval ?? 0, 3);
      expect(o.overheadSeconds).toBeCloseTo(c.want.overhead, 3);
      // the parts add up to the whole
      expect(o.actionSeconds + o.verificationSeconds + o.approvalSeconds + o.overheadSeconds).toBeCloseTo(o.detectToHealedSeconds, 3);
      expect(o.met).toBe(o.overheadSeconds <= 2);
      expect(o.gaps.length).toBeGreaterThan(0);
      expect(o.gaps.map((g) => g.seconds)).toEqual([...o.gaps.map((g) => g.seconds)].sort((a, b) => b - a));
      if (c.want.largest) expect(`${o.gaps[0]!.from} → ${o.gaps[0]!.to} ${o.gaps[0]!.seconds.toFixed(2)}s`).toBe(c.want.largest);
    });
  }

  it('counts the dispatch beyond an action\'s own time as a gap of its own', () => {
    const r = mttrOverhead(timeline([0, opened(0)], [10, started()], [1_010, succeeded(0, 100)], [1_010, resolved('ok', 0)]));
    expect('overhead' in r && r.overhead.gaps[0]).toEqual({ from: 'action.started', to: "action.succeeded (beyond the action's own time)", seconds: 0.9 });
  });

  it.each([
    ['escalated', timeline([0, opened(0)], [10, entry.resolution({ message: 'x', data: { status: 'escalated', outcome: 'no step left' } })]), 'the incident escalated: not healed by medic'],
    ['resolved before medic acted', timeline([0, opened(0)], [10, resolved('alert resolved before medic acted')]), 'resolved without a step healing it (alert resolved before medic acted)'],
    ['still open', timeline([0, opened(0)], [10, gate()]), 'the incident has not ended'],
    ['no detection', timeline([10, gate()], [20, resolved('x', 0)]), 'the timeline has no alert.opened entry'],
  ])('no figure when %s, and says why', (_name, tl, why) => {
    expect(mttrOverhead(tl)).toEqual({ unknown: why });
  });

  it('takes another goal', () => {
    const r = mttrOverhead(cases[0]!.tl, { goalSeconds: 0.1 });
    expect('overhead' in r && [r.overhead.goalSeconds, r.overhead.met]).toEqual([0.1, false]);
  });
});

describe('the drill report line', () => {
  const o = mttrOverhead(cases[3]!.tl);
  if (!('overhead' in o)) throw new Error('expected a figure');
  it('shows the overhead against the goal, the parts subtracted and the largest gaps', () => {
    expect(formatOverhead(o.overhead)).toBe(
      '0.32s (goal ≤ 2s: met) = detected → healed 60.33s − action 0.01s − verification 0.00s − approval wait 60.00s; largest: approval.decided → action.started 0.20s, alert.opened → gate.passed 0.08s, alert received → alert.opened 0.02s',
    );
  });
  it('is part of medic drill\'s report, or says why there is none', () => {
    const base: DrillReport = { scenario: 'demo-outage', target: 'demo', fault: 'demo-fault outage', requestedBy: 'alice', passed: true, reasons: [], deadlineSeconds: 90, expected: 'resolved', steps: [{ step: 0, result: 'healed' }] };
    expect(formatDrillReport({ ...base, overhead: o.overhead })).toContain(`\n  MTTR overhead: ${formatOverhead(o.overhead)}`);
    expect(formatDrillReport({ ...base, overheadUnknown: 'the incident escalated: not healed by medic' })).toContain('\n  MTTR overhead: — (the incident escalated: not healed by medic)');
  });
});
