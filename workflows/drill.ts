// A chaos drill as a workflow: preflight (maintenance window, drillable target, kill switch) →
// inject the fault → wait for medic's incident to open and to resolve (or escalate) → revert if
// needed → report (into the incident's thread, the memo that /metrics reads, and the result).
import { ActivityFailure, ApplicationFailure, proxyActivities, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { DrillActivities } from '../activities/drills.js';
import { toMs } from '../src/playbooks/duration.js';
import { maintenanceGate } from '../src/policy/gates.js';
import { describeFault, drillVerdict } from '../src/drills/report.js';
import { drillPhaseQuery, type DrillInput, type DrillPhase, type DrillReport } from './contracts-drill.js';

const quick = proxyActivities<DrillActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes: ['DrillRefused'] },
});
const watcher = (timeoutMs: number) =>
  proxyActivities<DrillActivities>({
    startToCloseTimeout: timeoutMs + 60_000,
    heartbeatTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
  });

const refusal = (err: unknown): string | undefined => {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return cause instanceof ApplicationFailure && cause.type === 'DrillRefused' ? cause.message : undefined;
};

export async function drillWorkflow(input: DrillInput): Promise<DrillReport> {
  const sc = input.scenario;
  let phase: DrillPhase = 'preflight';
  setHandler(drillPhaseQuery, () => phase);
  const deadlineMs = toMs(sc.deadline);
  const base: DrillReport = {
    scenario: sc.name,
    target: sc.target,
    fault: describeFault(sc),
    requestedBy: input.requestedBy,
    passed: false,
    reasons: [],
    deadlineSeconds: deadlineMs / 1000,
    expected: sc.expect.outcome,
    steps: [],
  };
  const done = (report: DrillReport): DrillReport => {
    phase = 'done';
    // The memo is what /metrics reads (src/drills/metrics.ts): visibility lists it without history.
    upsertMemo({ drill: { scenario: report.scenario, passed: report.passed, refused: report.refused !== undefined, ttdSeconds: report.ttdSeconds, mttrSeconds: report.mttrSeconds, overheadSeconds: report.overhead?.overheadSeconds } });
    return report;
  };
  const refuse = (why: string): DrillReport => done({ ...base, refused: why, reasons: [why] });

  const window = maintenanceGate(input.maintenanceWindows, Date.now());
  if (window.outcome !== 'pass') return refuse(`drill ${sc.name}: ${window.reason}; no drills inside a maintenance window`);
  try {
    await quick.drillPreflight({ scenario: sc });
  } catch (err) {
    const why = refusal(err);
    if (why) return refuse(why);
    throw err;
  }

  phase = 'injecting';
  const key = `${workflowInfo().workflowId}:${workflowInfo().runId.slice(0, 8)}`;
  const injected = await quick.drillInject({ scenario: sc, key });
  phase = 'detecting';
  const detectMs = toMs(sc.detectWithin);
  const incident = await watcher(detectMs).drillAwaitIncident({ playbook: sc.expect.playbook, since: injected.injectedAt, timeoutMs: detectMs });
  let end;
  if (incident) {
    phase = 'healing';
    const left = injected.injectedAt + deadlineMs - incident.startedAt;
    end = await watcher(left).drillAwaitOutcome({ workflowId: incident.workflowId, timeoutMs: left });
  }
  const verdict = drillVerdict(sc, deadlineMs, detectMs, { injectedAt: injected.injectedAt, ...(incident ? { incident } : {}), ...(end ? { end } : {}) });
  const report: DrillReport = { ...base, ...verdict, injectedAt: injected.injectedAt };
  // Leave the target as found: always after a failed drill, and when medic was not meant to heal it.
  if (sc.revert && (!report.passed || sc.expect.outcome !== 'resolved')) {
    phase = 'reverting';
    await quick.drillRevert({ scenario: sc, key });
    report.reverted = true;
  }
  phase = 'reporting';
  try {
    report.published = await quick.drillPublish({ report });
  } catch (err) {
    report.reasons.push(`the report could not be posted to the incident: ${(err as Error).message}`);
  }
  return done(report);
}
