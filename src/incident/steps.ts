// The decision core's step phases: gates (+ the target lock) → (approval) → act → verify, and
// what their answers lead to (the next try, the next step, escalation or the end).
import { toMs } from '../playbooks/duration.js';
import { render } from '../playbooks/template.js';
import { ansibleLimit } from '../playbooks/ansible.js';
import { combine, targetGate } from '../policy/gates.js';
import { advance, advanceAfterDryRun, approversOf, isDryRun, localGates, requiresApproval } from '../policy/plan.js';
import { finish, type Run, toEscalation } from './run.js';
import { approvalRequest } from './state.js';
import { askPolicy, policyOf, policyPending, policyWantsApproval } from './policy.js';
import type { IncidentEvent, ProbeRound } from './types.js';
import { entry, httpStatusOf, type HostReport } from '../../workflows/contracts-timeline.js';
import { keepSilenced } from './silences.js';
import { scopeOf } from './scope.js';
import { collect, whenGate } from './evidence.js';

const coveredOf = (r: Run): { covered?: { seen: number; atMost: number; truncated: number } } => {
  const sc = scopeOf(r.s, r.env.playbook);
  return sc.targets ? { covered: { ...sc.targets, truncated: sc.truncated } } : {};
};

export const LOCK_RECHECK_MS = 30_000;

export function nextStep(r: Run, reason: string, dryRunAll = false): void {
  const { s, env } = r;
  const step = r.step();
  s.pendingApproval = undefined;
  s.approval = undefined;
  s.policy = undefined;
  s.verify = undefined;
  s.holdStartedAt = undefined;
  s.lastHold = undefined;
  const n = dryRunAll ? advanceAfterDryRun(env.playbook, s.stepIndex) : advance(env.playbook, s, reason);
  if (n.kind === 'retry') {
    s.stepTry = n.stepTry;
    r.note(entry.actionRetrying({ message: `${r.label()}: ${reason}; trying again (try ${s.stepTry} of ${step.attempts})`, data: { reason, step: s.stepIndex, try: s.stepTry } }));
  } else if (n.kind === 'next') {
    s.stepIndex = n.stepIndex;
    s.stepTry = 1;
    r.note(entry.actionMovedOn({ message: `${reason}; moving on to ${r.label()}`, data: { reason, step: s.stepIndex } }));
  } else return toEscalation(r, n.reason);
  s.phase = 'gates';
}

/** A step whose `when:` does not hold: the next step, or escalation when none is left. */
function skipStep(r: Run): void {
  const { s, env } = r;
  s.pendingApproval = undefined;
  s.approval = undefined;
  if (s.stepIndex + 1 >= env.playbook.steps.length) return toEscalation(r, `no remaining step applies: ${r.label()}'s condition \`${r.step().when}\` does not hold`);
  s.stepIndex += 1;
  s.stepTry = 1;
  s.phase = 'gates';
}

/** Learning: each run of a step (action + verification of one try) is reported to the governor. */
const recordRun = (r: Run, ok: boolean): void =>
  r.emit({ kind: 'recordRun', step: r.s.stepIndex, stepName: r.step().name, ok, key: `${r.env.incidentId}:run:${r.s.stepIndex}:${r.s.stepTry}` });

const holdTooLong = (r: Run, now: number): boolean => r.s.holdStartedAt !== undefined && now - r.s.holdStartedAt >= toMs(r.env.playbook.limits.maxHold);

export function gatesPhase(r: Run): void {
  const { s, env } = r;
  const step = r.step();
  const pb = env.playbook;
  const when = whenGate(r);
  if (when === 'wait') return;
  if (when === 'skip') return skipStep(r);
  // A target picked by alert data outside the playbook's allow-lists fails the step before the
  // governor sees it: nothing acts and no budget is spent (src/policy/targets.ts).
  const refused = env.describe.targetRefusal(step);
  if (refused) {
    const decisions = [targetGate(refused)];
    r.note(entry.gateBlocked({ message: `${r.label()} blocked: target refused: ${refused.message}`, step: s.stepIndex, data: { decisions, refusal: refused } }));
    return nextStep(r, `target refused (${refused.message})`);
  }
  // An ansible step's targets are its hosts: the limit's names (the activity counts groups' hosts).
  const targets = step.action === 'ansible' ? ansibleLimit(step.params, env.ctx) : step.targets.map((t) => render(t, env.ctx));
  const local = localGates({
    pause: s.pause,
    maintenanceWindows: pb.maintenanceWindows,
    deploymentLabel: pb.deploymentLabel,
    labels: env.ctx.labels,
    annotations: env.ctx.annotations,
    targets: targets.length > 0 ? targets : [env.target],
    blastRadius: pb.limits.blastRadius,
    ...coveredOf(r),
    now: r.at,
  });
  const approved = s.approval?.decision === 'approve';
  const needsApproval = (requiresApproval(step, env.mode) || policyWantsApproval(r)) && !approved;
  // A step with an OPA policy is admitted (counted) only once the policy answered.
  const begin = combine(local).verdict === 'allow' && !needsApproval && !policyPending(r);
  r.m.gates = { at: r.at, local, begin, needsApproval };
  r.m.inFlight = 'governor';
  // One governor round trip takes/renews the target lock and, when ready to act, admits the action.
  r.emit({
    kind: 'askGovernor',
    key: r.key('admit'),
    admit: {
      target: env.target,
      incidentId: env.incidentId,
      leaseMs: env.options.lockLeaseMs,
      ...(begin ? { begin: pb.limits } : {}),
      step: { playbook: pb.name, index: s.stepIndex, demoteAfter: pb.limits.demoteAfter, approved },
    },
  });
}

export function admitted(r: Run, res: Extract<IncidentEvent, { kind: 'admitted' }>['result']): void {
  const { s, env, m } = r;
  const g = m.gates!;
  m.inFlight = undefined;
  m.gates = undefined;
  const step = r.step();
  const now = g.at;
  s.pause = res.pause;
  if (!res.granted) {
    if (s.lockHolder !== res.holder) r.note(entry.lockWaiting({ message: `${env.target} is already being healed by ${res.holder}; waiting`, data: { target: env.target, ...(res.holder ? { holder: res.holder } : {}) } }));
    s.lockHolder = res.holder;
    r.setStatus('holding');
    s.holdStartedAt ??= now;
    if (holdTooLong(r, now)) return toEscalation(r, `waited ${env.playbook.limits.maxHold} for ${res.holder} to release ${env.target}`);
    return r.wait('recheck', LOCK_RECHECK_MS, { lock: true });
  }
  if (!s.lockHeld) r.note(entry.lockAcquired({ message: `lock on ${env.target} acquired`, data: { target: env.target } }));
  s.lockHeld = true;
  const decisions = [...g.local, ...res.decisions];
  const verdict = g.begin ? (res.allowed ? ({ verdict: 'allow' } as const) : combine(res.decisions)) : combine(g.local);
  const data = { decisions };
  const demoted = res.demotion?.reason !== undefined && !g.needsApproval && s.approval?.decision !== 'approve';
  if (demoted && verdict.verdict === 'allow' && s.demoted?.step !== s.stepIndex) {
    s.demoted = { step: s.stepIndex, reason: res.demotion?.reason ?? '' };
    const msg = `step ${s.stepIndex + 1} (${step.name}) auto-demoted to require approval: ${s.demoted.reason}`;
    r.note(entry.gateDemoted({ message: msg, step: s.stepIndex, data: res.demotion ? { demotion: res.demotion } : {} }));
    if (step.approvers.length === 0 && env.playbook.demotionApprovers.length === 0) {
      return toEscalation(r, `${msg}; nobody may approve it (the step lists no approvers and the playbook no demotionApprovers)`);
    }
  }
  if (verdict.verdict === 'allow') {
    if (policyPending(r)) return askPolicy(r, res.facts);
    const gates = [...new Set(decisions.map((d) => d.gate))].join(', ');
    r.note(entry.gatePassed({ message: `gates passed for ${r.label()}: ${gates}`, step: s.stepIndex, data }));
    s.holdStartedAt = undefined;
    s.lastHold = undefined;
    s.phase = g.needsApproval || demoted ? 'approval' : 'act';
    return;
  }
  if (verdict.verdict === 'block') {
    r.note(entry.gateBlocked({ message: `${r.label()} blocked: ${verdict.reasons.join('; ')}`, step: s.stepIndex, data }));
    return toEscalation(r, `policy blocked ${r.label()}: ${verdict.reasons.join('; ')}`);
  }
  const message = `holding ${r.label()}: ${verdict.reasons.join('; ')}`;
  if (message !== s.lastHold) r.note(entry.gateHeld({ message, step: s.stepIndex, data }));
  s.lastHold = message;
  r.setStatus('holding');
  // maxHold is for holds that may never end by themselves (kill switch, limits, deployments).
  // A maintenance window is planned and ends on its own: time inside it does not count.
  const inWindow = decisions.some((d) => d.gate === 'maintenance-window' && d.outcome === 'wait');
  if (inWindow) s.holdStartedAt = undefined;
  else s.holdStartedAt ??= now;
  if (holdTooLong(r, now)) return toEscalation(r, `held longer than ${env.playbook.limits.maxHold}: ${verdict.reasons.join('; ')}`);
  // Look again at least every half lease: the governor call renews the target's lease.
  r.wait('recheck', Math.min(Math.max(1_000, verdict.untilMs - now), env.options.lockLeaseMs / 2), { paused: s.pause.paused });
}

export function approvalPhase(r: Run): void {
  const { s, env } = r;
  const step = r.step();
  const fresh = s.pendingApproval?.step !== s.stepIndex;
  // Nobody is asked to approve a request that would be refused: the step fails, nothing sent.
  const refused = fresh ? env.describe.renderRefusal(step) : undefined;
  if (refused) {
    r.note(entry.actionFailed({ message: `${r.label()} failed: refused, nothing was sent: ${refused.message}`, step: s.stepIndex, data: { details: { refusal: refused } } }));
    return nextStep(r, `action failed (refused, nothing was sent: ${refused.message})`);
  }
  // Steps with a dry run of their own show it in the request: it runs first (ansible: --check --diff).
  if (fresh && step.action === 'ansible' && (s.preview?.step !== s.stepIndex || s.preview.try !== s.stepTry)) {
    r.m.inFlight = 'preview';
    r.emit({ kind: 'preview', step: s.stepIndex, stepTry: s.stepTry, idempotencyKey: actionKey(r) });
    return;
  }
  if (fresh) {
    const what = `${r.label()}: ${env.describe.action(step)}`;
    // An approval the OPA policy asked for goes to the groups it named (else, as for a demoted
    // step, the step's approvers or the playbook's demotionApprovers).
    const policy = policyWantsApproval(r) ? policyOf(r) : undefined;
    const approvers =
      policy && policy.approvers.length > 0 ? policy.approvers : approversOf(env.playbook, step, policy !== undefined || s.demoted?.step === s.stepIndex || env.mode === 'approve-all');
    const why = policy ? `policy ${policy.decision} requires approval` : 'mode approve-all';
    if (approvers.length === 0) return toEscalation(r, `${why}: nobody may approve ${what} (the step lists no approvers and the playbook no demotionApprovers)`);
    const needed = step.fourEyes ? 2 : undefined; // four-eyes: two distinct approvers
    const preview = s.preview?.step === s.stepIndex && s.preview.try === s.stepTry ? s.preview.text : undefined;
    const p = {
      ...approvalRequest({ ...step, approvers }, s.stepIndex, what, env.requestedBy, r.at, toMs(step.approvalTimeout), needed),
      ...(preview ? { preview } : {}),
      ...(policy ? { policy: { decision: policy.decision, ...(policy.hash ? { hash: policy.hash } : {}), reasons: policy.reasons } } : {}),
    };
    s.pendingApproval = p;
    s.approval = undefined;
    r.note(
      entry.approvalRequested({
        message: `approval needed for ${what} — risk ${p.risk}; approvers: ${p.approvers.join(', ')}${p.fourEyes ? ` (four-eyes${p.needed ? `: ${p.needed} different approvers` : ''})` : ''}; expires ${new Date(p.expiresAt).toISOString()}${policy ? `; required by policy ${policy.decision}${policy.reasons.length > 0 ? `: ${policy.reasons.join('; ')}` : ''}` : ''}`,
        step: s.stepIndex,
        data: { request: p },
      }),
    );
    r.emit({ kind: 'requestApproval', step: s.stepIndex, expiresAt: p.expiresAt });
  }
  r.setStatus('awaiting_approval');
  r.wait('approval', s.pendingApproval!.expiresAt - r.at);
}

/** The try's idempotency key: incident + step + the workflow's try (never an activity attempt). */
const actionKey = (r: Run): string => `${r.env.incidentId}:step-${r.s.stepIndex}:try-${r.s.stepTry}`;

/** The dry run for the approval request came back: kept for the request (a failed check is shown too). */
export function previewed(r: Run, o: Extract<IncidentEvent, { kind: 'previewed' }>['outcome']): void {
  const { s } = r;
  r.m.inFlight = undefined;
  if (o.hosts) r.note(entry.actionHosts({ message: `${r.label()} before approval: ${hostsLine(o.hosts)}`, step: s.stepIndex, data: o.hosts }));
  s.preview = { step: s.stepIndex, try: s.stepTry, text: o.ok ? o.summary : `the dry run failed: ${o.error}` };
}

export function actPhase(r: Run): void {
  const { s, env } = r;
  const step = r.step();
  r.setStatus('acting');
  const idempotencyKey = actionKey(r);
  const dryRun = isDryRun(env.playbook, step, env.mode);
  // The action's kind feeds the store's actions-by-type KPI.
  r.note(
    entry.actionStarted({
      message: `${r.label()} ${dryRun ? 'dry run' : 'started'}: ${env.describe.action(step)}`,
      step: s.stepIndex,
      data: { idempotencyKey, stepName: step.name, try: s.stepTry, dryRun, action: step.action },
    }),
  );
  if (!dryRun) keepSilenced(r);
  r.m.inFlight = 'action';
  r.emit({ kind: 'runAction', step: s.stepIndex, stepTry: s.stepTry, idempotencyKey, dryRun });
}

export function acted(r: Run, o: Extract<IncidentEvent, { kind: 'actionResult' }>['outcome']): void {
  const { s, env } = r;
  r.m.inFlight = undefined;
  const dryRun = isDryRun(env.playbook, r.step(), env.mode);
  if (o.hosts) r.note(entry.actionHosts({ message: `${r.label()}: ${hostsLine(o.hosts)}`, step: s.stepIndex, data: o.hosts }));
  if (o.ok) {
    if (!dryRun) s.acted = true;
    // A change to put back when the incident resolves (revertOnResolve): its undo workflow waits.
    const undo = o.data.undo as { when?: unknown } | undefined;
    if (!dryRun && typeof o.data.undoWorkflowId === 'string' && undo?.when === 'resolve') (s.undos ??= []).push(o.data.undoWorkflowId);
    r.note(entry.actionSucceeded({ message: `${r.label()} finished: ${o.summary} (${o.durationMs}ms)`, step: s.stepIndex, data: { dryRun, ...httpStatusOf(o.data), durationMs: o.durationMs, output: o.data } }));
  } else {
    // A refusal sent nothing: not a failed remediation, or hostile alerts could demote a step.
    if (!o.refused) s.acted = true;
    r.note(entry.actionFailed({ message: `${r.label()} failed: ${o.error}`, step: s.stepIndex, data: o.details ? { ...httpStatusOf(o.details), details: o.details } : {} }));
  }
  r.emit({ kind: 'endAction', key: r.key('end') });
  collect(r, 'after-step', s.stepIndex); // the "after" snapshot of this action
  if (!o.ok) {
    if (!o.refused) recordRun(r, false);
    return nextStep(r, `action failed (${o.error})`);
  }
  if (dryRun) {
    r.note(entry.verificationSkipped({ message: 'dry run: verification skipped', step: s.stepIndex, data: {} }));
    if (env.mode === 'dry-run') return nextStep(r, 'dry run', true);
    return toEscalation(r, 'dry run: no action was taken; a human decides');
  }
  s.verify = undefined;
  s.phase = 'verify';
}

/** "check of restart-service.yml on 2 hosts: web1 changed (restart demo), web2 already applied". */
export function hostsLine(h: HostReport): string {
  const one = (x: HostReport['hosts'][number]): string => {
    const what = x.status === 'already-applied' ? 'already applied' : x.status;
    const detail = x.status === 'changed' ? x.changedTasks.join(', ') : x.status === 'failed' || x.status === 'unreachable' ? [x.failedTask, x.message].filter(Boolean).join(': ') : '';
    return `${x.host} ${what}${detail ? ` (${detail})` : ''}`;
  };
  return `${h.check ? 'check (--check --diff) of' : 'ran'} ${h.playbook} on ${h.hosts.length} host(s): ${h.hosts.map(one).join('; ')}`;
}

export function verifyPhase(r: Run): void {
  const { s } = r;
  const step = r.step();
  const v = step.verification;
  if (!v) {
    recordRun(r, true);
    return finish(r, 'resolved', `${r.label()} succeeded (no verification configured)`, s.stepIndex);
  }
  r.setStatus('verifying');
  if (!s.verify) {
    s.verify = { startedAt: r.at, probes: 0 };
    r.note(entry.verificationStarted({ message: `verifying ${r.label()}: ${r.env.describe.verification(step)} must pass for ${v.window} (deadline ${v.deadline})`, step: s.stepIndex, data: {} }));
  }
  keepSilenced(r);
  r.m.inFlight = 'verify';
  r.emit({ kind: 'verify', step: s.stepIndex });
}

// Every configured probe runs each round; all must pass. PromQL "no data" is a scrape gap:
// tolerated for maxNoData rounds without resetting the window, then a failure.
export function verified(r: Run, round: ProbeRound): void {
  const { s } = r;
  r.m.inFlight = undefined;
  const v = r.step().verification!;
  const st = s.verify!;
  const { http, promql, kubernetes: k8s } = round;
  const noData = promql?.outcome === 'nodata';
  st.noData = noData ? (st.noData ?? 0) + 1 : 0;
  const gapTolerated = noData && st.noData <= (v.promql?.maxNoData ?? 0);
  const ok = (http?.ok ?? true) && (promql ? promql.outcome === 'pass' : true) && (k8s?.ok ?? true);
  const evidence = [http?.evidence, promql?.evidence, k8s?.evidence].filter(Boolean).join('; ');
  st.probes += 1;
  st.lastEvidence = evidence;
  if (gapTolerated && (http?.ok ?? true) && (k8s?.ok ?? true)) return r.wait('probe', toMs(v.interval));
  if (ok) {
    st.passingSince ??= r.at;
    if (r.at - st.passingSince >= toMs(v.window)) {
      r.note(entry.verificationPassed({ message: `verified: healthy for ${v.window} (${st.probes} probes); ${evidence}`, step: s.stepIndex, data: {} }));
      recordRun(r, true);
      return finish(r, 'resolved', `healed by ${r.label()}`);
    }
  } else {
    if (st.passingSince !== undefined || st.probes === 1) r.note(entry.verificationProbeFailed({ message: `probe failed: ${evidence}`, step: s.stepIndex, data: {} }));
    st.passingSince = undefined;
  }
  if (r.at - st.startedAt >= toMs(v.deadline)) {
    r.note(entry.verificationFailed({ message: `verification failed: not healthy for ${v.window} within ${v.deadline}; last: ${evidence}`, step: s.stepIndex, data: { evidence, probes: st.probes } }));
    recordRun(r, false);
    return nextStep(r, 'verification failed');
  }
  r.wait('probe', toMs(v.interval));
}
