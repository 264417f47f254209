// A drill's verdict and its text, as pure functions: the drill workflow computes the report with
// them, the CLI and the Slack thread print it.
import type { DrillScenario } from './schema.js';
import type { DrillOverhead, DrillReport } from '../../workflows/contracts-drill.js';
import { formatSequence, type StepOutcome } from '../simulate/sequence.js';

export const describeFault = (s: Pick<DrillScenario, 'fault'>): string => {
  const f = s.fault;
  switch (f.kind) {
    case 'demo-fault':
      return `demo-fault ${f.fault}${f.latencyMs !== undefined ? ` ${f.latencyMs}ms` : ''}`;
    case 'ssm-fill-disk':
      return `ssm-fill-disk ${f.sizeMb}MB at ${f.path}`;
    default:
      return f.kind;
  }
};

export function drillVerdict(
  scenario: DrillScenario,
  deadlineMs: number,
  detectMs: number,
  run: {
    injectedAt: number;
    incident?: { workflowId: string; incidentId: string; startedAt: number };
    end?: { status: string; outcome?: string; endedAt?: number; steps: StepOutcome[]; overhead?: DrillOverhead; overheadUnknown?: string };
  },
): Pick<DrillReport, 'passed' | 'reasons' | 'ttdSeconds' | 'mttrSeconds' | 'steps' | 'incident' | 'overhead' | 'overheadUnknown'> {
  const reasons: string[] = [];
  const secs = (ms: number): number => Math.round(ms / 100) / 10;
  if (!run.incident) {
    return { passed: false, reasons: [`no ${scenario.expect.playbook} incident opened within ${scenario.detectWithin} of the fault`], steps: [], overheadUnknown: 'no incident opened' };
  }
  const ttdMs = run.incident.startedAt - run.injectedAt;
  if (ttdMs > detectMs) reasons.push(`detected after ${secs(ttdMs)}s, budget ${scenario.detectWithin}`);
  const end = run.end;
  const mttrMs = end?.endedAt !== undefined ? end.endedAt - run.injectedAt : undefined;
  if (!end || (end.status !== 'resolved' && end.status !== 'escalated')) {
    reasons.push(`incident still ${end?.status ?? 'open'} at the deadline (${scenario.deadline})`);
  } else if (end.status !== scenario.expect.outcome) {
    reasons.push(`expected ${scenario.expect.outcome}, but the incident ${end.status}${end.outcome ? `: ${end.outcome}` : ''}`);
  } else if (scenario.expect.outcome === 'resolved' && end.outcome?.startsWith('alert resolved after escalation')) {
    reasons.push(`resolved only after escalating (${end.outcome})`);
  }
  if (mttrMs !== undefined && mttrMs > deadlineMs) reasons.push(`recovered after ${secs(mttrMs)}s, deadline ${scenario.deadline}`);
  return {
    passed: reasons.length === 0,
    reasons,
    ttdSeconds: secs(ttdMs),
    ...(mttrMs !== undefined ? { mttrSeconds: secs(mttrMs) } : {}),
    steps: end?.steps ?? [],
    // The overhead is reported against its goal; it does not decide the drill (load is not medic's fault).
    ...(end?.overhead ? { overhead: end.overhead } : { overheadUnknown: end?.overheadUnknown ?? 'the incident did not end' }),
    incident: { workflowId: run.incident.workflowId, incidentId: run.incident.incidentId, status: end?.status ?? 'open', ...(end?.outcome ? { outcome: end.outcome } : {}) },
  };
}

export function formatDrillReport(r: DrillReport): string {
  const head = `drill ${r.scenario}: ${r.refused ? 'REFUSED' : r.passed ? 'PASS' : 'FAIL'} — ${r.fault} on ${r.target} (by ${r.requestedBy})`;
  if (r.refused) return `${head}\n  ${r.refused}`;
  const lines = [
    head,
    `  incident: ${r.incident ? `${r.incident.incidentId} ${r.incident.status}${r.incident.outcome ? ` (${r.incident.outcome})` : ''}` : 'none opened'}`,
    `  time to detect: ${r.ttdSeconds !== undefined ? `${r.ttdSeconds}s` : '—'}; time to ${r.incident?.status === 'escalated' ? 'escalate' : 'recover'}: ${r.mttrSeconds !== undefined ? `${r.mttrSeconds}s` : '—'} (deadline ${r.deadlineSeconds}s, expected ${r.expected})`,
    `  steps: ${formatSequence(r.steps)}`,
    `  MTTR overhead: ${r.overhead ? formatOverhead(r.overhead) : `— (${r.overheadUnknown ?? 'not measured'})`}`,
  ];
  if (r.reasons.length > 0) lines.push(...r.reasons.map((x) => `  ✗ ${x}`));
  if (r.reverted) lines.push('  fault reverted by the drill');
  return lines.join('\n');
}

/** "0.42s (goal ≤ 2s: met) = detected → healed 3.10s − action 0.01s − verification 2.67s; largest: …" */
export function formatOverhead(o: DrillOverhead): string {
  const s = (x: number): string => `${x.toFixed(2)}s`;
  const minus = [`action ${s(o.actionSeconds)}`, `verification ${s(o.verificationSeconds)}`, ...(o.approvalSeconds > 0 ? [`approval wait ${s(o.approvalSeconds)}`] : [])];
  const gaps = o.gaps.map((g) => `${g.from} → ${g.to} ${s(g.seconds)}`).join(', ');
  return `${s(o.overheadSeconds)} (goal ≤ ${o.goalSeconds}s: ${o.met ? 'met' : 'NOT met'}) = detected → healed ${s(o.detectToHealedSeconds)} − ${minus.join(' − ')}${gaps ? `; largest: ${gaps}` : ''}`;
}
