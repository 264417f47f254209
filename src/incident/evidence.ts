// The decision core's side of the evidence pack: when to collect it (at open, after each action,
// at escalation), what a pack that arrived changes (the facts `when:` conditions read, a timeline
// entry), and whether a step's `when:` holds. Evidence never blocks an action or an escalation:
// only a step with a `when:` waits, and only for the opening pack (its collection never fails,
// and every read in it has a deadline).
import type { Playbook } from '../playbooks/schema.js';
import { EVIDENCE_PARTS, factsOf, type EvidenceMoment, type EvidencePack } from '../evidence/schema.js';
import { evidenceRequest, type EvidenceRequest } from '../evidence/request.js';
import { evaluateWhen } from '../evidence/when.js';
import { entry } from '../../workflows/contracts-timeline.js';
import type { Run } from './run.js';
import { findSimilar } from './similar.js';
import type { IncidentCommand, IncidentEnv } from './types.js';

/** A playbook collects evidence when it has an `evidence:` block or a step branches on it. */
export const collectsEvidence = (pb: Pick<Playbook, 'evidence' | 'steps'>): boolean => pb.evidence !== undefined || pb.steps.some((s) => s.when !== undefined);

export function collect(r: Run, moment: EvidenceMoment, step?: number): void {
  if (!collectsEvidence(r.env.playbook)) return;
  r.m.evidencePending = (r.m.evidencePending ?? 0) + 1;
  r.emit({ kind: 'collectEvidence', moment, ...(step !== undefined ? { step } : {}), at: r.at });
}

/** What the pack says went wrong, on what: `OOMKilled deployment/shop/api` (or undefined). */
export function signatureOf(p: EvidencePack): string | undefined {
  const f = factsOf(p);
  const k = p.kubernetes;
  const what = f.oomKilled ? 'OOMKilled' : f.crashLoop ? 'CrashLoopBackOff' : undefined;
  return what && k ? `${what} ${k.target.kind.toLowerCase()}/${k.target.namespace}/${k.target.name}` : undefined;
}

/** One line per pack for the thread's timeline (the pack itself is rendered by the sinks). */
export function evidenceLine(p: EvidencePack): string {
  const f = factsOf(p);
  const seen: string[] = [];
  if (f.oomKilled) seen.push('OOMKilled');
  if (f.crashLoop) seen.push('CrashLoopBackOff');
  if (p.kubernetes) seen.push(`${p.kubernetes.pods.length} pod(s), ${f.restarts} restart(s)`);
  if (p.logs) seen.push(`${p.logs.lines.length} log line(s)`);
  if (p.changes?.items.length) seen.push(`${p.changes.items.length} change(s)${p.changes.likelyCause ? ', likely cause found' : ''}`);
  const missing = p.missing.length ? `; missing: ${[...new Set(p.missing.map((m) => m.part))].join(', ')}` : '';
  const when = p.moment === 'after-step' && p.step !== undefined ? `after step ${p.step + 1}` : p.moment === 'open' ? 'at open' : 'at escalation';
  return `evidence ${when}: ${seen.join(', ') || 'nothing notable'}${missing}`;
}

export function onEvidence(r: Run, pack: EvidencePack): void {
  r.m.evidencePending = Math.max(0, (r.m.evidencePending ?? 1) - 1);
  r.m.awaitEvidence = false;
  r.s.evidence = { at: r.at, moment: pack.moment, facts: factsOf(pack) };
  // The evidence signature similar past incidents match on: asked again once it is known.
  const signature = signatureOf(pack);
  if (signature && !r.s.signature && r.s.phase !== 'done') {
    r.s.signature = signature;
    findSimilar(r);
  }
  r.note(entry.evidence({ message: evidenceLine(pack), ...(pack.step !== undefined ? { step: pack.step } : {}), data: { evidence: pack } }));
}

/** Before a fresh step's gates: its `when:` decides whether it runs. 'wait' until the opening
 * evidence arrived; 'skip' notes why. */
export function whenGate(r: Run): 'run' | 'wait' | 'skip' {
  const step = r.step();
  if (step.when === undefined || r.s.stepTry > 1 || r.s.approval?.decision === 'approve') return 'run';
  if (!r.s.evidence) {
    if ((r.m.evidencePending ?? 0) === 0) collect(r, 'open');
    r.m.awaitEvidence = true;
    return 'wait';
  }
  const v = evaluateWhen(step.when, r.s.evidence.facts, r.at);
  if (v.holds) return 'run';
  r.note(entry.stepSkipped({ message: `${r.label()} skipped: when \`${step.when}\` does not hold (${v.why})`, step: r.s.stepIndex, data: { when: step.when, seen: v.why } }));
  return 'skip';
}

type CollectCommand = Extract<IncidentCommand, { kind: 'collectEvidence' }>;

/** What a collectEvidence command asks for (the workflow and `medic simulate` build it alike). */
export function requestFor(env: IncidentEnv, c: CollectCommand, lastVerification?: string): EvidenceRequest {
  const ctx = { ...env.ctx, labels: { alertname: env.alert.alertname, ...env.ctx.labels } };
  return evidenceRequest(env.playbook, ctx, { incidentId: env.incidentId, moment: c.moment, ...(c.step !== undefined ? { step: c.step } : {}), at: c.at, ...(lastVerification ? { lastVerification } : {}) });
}

/** The pack of a collection that could not run at all: every part missing, with the reason. */
export const unavailablePack = (c: CollectCommand, reason: string): EvidencePack => ({
  moment: c.moment,
  ...(c.step !== undefined ? { step: c.step } : {}),
  collectedAt: c.at,
  missing: EVIDENCE_PARTS.map((part) => ({ part, reason })),
});
