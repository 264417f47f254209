// One incident = one workflow: gates (+ target lock) → (approval) → act → verify → next step
// → escalate. State lives in `s` so the loop can continueAsNew at any phase boundary.
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { toMs } from '../src/playbooks/duration.js';
import type { HttpRequest, Step } from '../src/playbooks/schema.js';
import type { RenderedHttpRequest } from '../activities/http.js';
import { actionProfile, governor, pagerdutyProfile, probeProfile, publishProfile } from './profiles.js';
import { buildPage } from './page.js';
import { applyTake, humanOutcome, notifyWebhook, refuseResolve, refuseTake, runLadder, validateResolve, validateTake, type FiredRung } from './ladder.js';
import { identityChecked, requireSignedIdentity } from './identity.js';
import { describeAction, RENDER_REFUSED, renderHttpRequest, runAction, stepRefusal, verificationTargets } from './actions.js';
import { describeKubernetesCheck, kubernetesCheck, kubernetesProbe, kubernetesRefusal, TARGET_REFUSED } from './kubernetes.js';
import { render, type TemplateContext } from '../src/playbooks/template.js';
import { graphFor } from '../src/graphs/query.js';
import { combine, targetGate } from '../src/policy/gates.js';
import { advance, advanceAfterDryRun, approversOf, isDryRun, localGates, modeOf, requiresApproval, type PlaybookMode } from '../src/policy/plan.js';
import {
  alertSignal,
  decideUpdate,
  DecisionInputSchema,
  resolveUpdate,
  takeUpdate,
  lockFreedSignal,
  pauseSignal,
  SearchAttributes,
  statusQuery,
  timelineQuery,
  type IncidentInput,
  type IncidentState,
  type IncidentStatus,
  type IdentityKind,
  type IncidentStatusName,
  type TimelineEntry,
} from './contracts.js';
import { entry, httpStatusOf, type NewEntry } from './contracts-timeline.js';
import { drillReportSignal, sinkRefsQuery } from './contracts-drill.js';
import { incidentIdOf, playbookSource } from './playbook-source.js';
import {
  applyAlerts,
  applyDecision,
  approvalRequest,
  DEFAULT_OPTIONS,
  newState,
  record,
  refuseDecision,
  statusOf,
  upgradeCarriedTimeline,
} from './incident-state.js';

const LOCK_RECHECK_MS = 30_000;

/** Failure types meaning "refused before acting": nothing reached the target. */
const REFUSALS = new Set(['SsmRefused', TARGET_REFUSED]);
const isRefusal = (err: unknown): boolean => {
  const e = err as { type?: string; cause?: { type?: string } };
  return REFUSALS.has(e.type ?? '') || REFUSALS.has(e.cause?.type ?? '');
};

const failureText = (err: unknown): string => {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
};

export async function incidentWorkflow(raw: IncidentInput): Promise<IncidentStatus> {
  const info = workflowInfo();
  const opts = { ...DEFAULT_OPTIONS, ...raw.options };
  const wfId = info.workflowId;
  const incidentId = incidentIdOf(wfId, info.firstExecutionRunId, raw.carried);
  const s: IncidentState = raw.carried ?? newState(incidentId, raw.alert, Date.now());
  // Queries answer while the playbook is looked up (an activity), from the state so far.
  setHandler(statusQuery, () => statusOf(s, { ...raw, playbook: { name: raw.playbookRef?.name ?? raw.playbook?.name ?? '', steps: [] } }, wfId));
  setHandler(timelineQuery, () => s.timeline);
  // Start-up patch decisions, taken once before the playbook lookup.
  const modePatched = patched('playbook-mode');
  // Intake limits: at most opts.fingerprintCap fingerprints in state; the overflow incident
  // (alert groups over the playbook's open-incident cap) records and escalates, never acts.
  const fingerprintCap = patched('bounded-fingerprints') ? opts.fingerprintCap : undefined;
  const overflowPatched = raw.overflow !== undefined && patched('intake-overflow');
  // The worker's own copy of the playbook version the input names; never the input's body.
  const source = await playbookSource(raw);
  const input = source.input;
  const pb = input.playbook;
  const ctx: TemplateContext = {
    incident: { id: incidentId, workflowId: wfId },
    labels: input.alert.labels,
    annotations: input.alert.annotations,
    target: input.target,
  };
  let lockFreed = false;
  let continuing = false;
  // Rollout mode (src/policy/plan.ts); patched so histories from before it replay as 'auto'.
  const mode: PlaybookMode = modeOf(pb) !== 'auto' && modePatched ? modeOf(pb) : 'auto';
  const overflow = overflowPatched ? input.overflow : undefined;

  // New timeline entries go to the sinks in the background, batched per activation (a microtask
  // runs after the activation's code), so publishing never delays an action. One publish at a
  // time: entries noted while one is in flight go out together when it returns, so a busy
  // incident coalesces into few sink calls (and few Slack messages) instead of one per entry.
  let publishing: Promise<void> = Promise.resolve();
  let flushQueued = false;
  let publishInFlight = false;
  /** Continuing as new: finish the publish in flight, carry what was noted since to the next run. */
  let carryUnpublished = false;
  const sinks = proxyActivities<Activities>(publishProfile);
  const unpublished = (): TimelineEntry[] => s.timeline.filter((e) => e.seq >= s.publishedSeq);
  const flush = (): void => {
    flushQueued = false;
    if (publishInFlight || unpublished().length === 0) return;
    publishInFlight = true;
    publishing = publishing.then(async () => {
      try {
        // `await publishing` therefore also waits for entries noted during the publish.
        for (let entries = unpublished(); entries.length > 0 && !carryUnpublished; entries = unpublished()) {
          s.publishedSeq = entries[entries.length - 1]!.seq + 1;
          try {
            const r = await sinks.publishIncident({
              incident: statusOf(s, input, wfId),
              entries,
              refs: s.sinkRefs,
              ...(opts.temporalUiUrl ? { temporalUiUrl: opts.temporalUiUrl } : {}),
            });
            Object.assign(s.sinkRefs, r.refs);
          } catch (err) {
            if (isCancellation(err)) throw err;
            log.warn(`publishing timeline failed: ${failureText(err)}`, { incidentId });
          }
        }
      } finally {
        publishInFlight = false;
      }
    });
  };
  const queueFlush = (): void => {
    if (!flushQueued) {
      flushQueued = true;
      void Promise.resolve().then(flush);
    }
  };
  const note = (e: NewEntry): void => {
    record(s, opts.timelineCap, { ...e, at: Date.now() });
    log.info(e.message, { incidentId, kind: e.kind });
    queueFlush();
  };
  const setStatus = (status: IncidentStatusName): void => {
    if (s.status === status) return;
    s.status = status;
    upsertSearchAttributes([{ key: SearchAttributes.status, value: status }]);
  };
  const key = (purpose: string): string => `${incidentId}:${purpose}:${++s.calls}`;
  const stepLabel = (i = s.stepIndex): string => `step ${i + 1}/${pb.steps.length} (${pb.steps[i]?.name ?? '?'})`;
  const currentStep = (): Step => {
    const step = pb.steps[s.stepIndex];
    if (!step) throw ApplicationFailure.nonRetryable(`no step ${s.stepIndex} in ${pb.name}`, 'BadState');
    return step;
  };
  /** A webhook rung's request rendered for its contexts; a refusal is noted and nothing is sent
   * (histories from before typed rendering replay with what they sent). */
  const renderRequest = (r: HttpRequest, i: number): RenderedHttpRequest | undefined => {
    const rendered = renderHttpRequest(r, ctx, `escalation.${i}.request`);
    if (rendered.ok) return rendered.value;
    if (patched('typed-render')) {
      note(entry.webhookRefused({ message: `escalation webhook refused, nothing was sent: ${rendered.refusal.message}`, data: { refusal: rendered.refusal } }));
      return undefined;
    }
    return { ...r, url: render(r.url, ctx), headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, [render(v, ctx)]])), ...(r.body !== undefined ? { body: render(r.body, ctx) } : {}) };
  };

  if (input.carried) {
    upgradeCarriedTimeline(s);
    s.continuedAsNew += 1;
    // Entries the previous run noted while it was continuing as new go out now.
    if (s.timeline.some((e) => e.seq >= s.publishedSeq) && patched('publish-carried-entries')) queueFlush();
  } else {
    const { source, startsAt, receivedAt, annotations } = input.alert;
    // What the store needs for time-to-detect (src/store/store.ts ttdSecondsOf).
    const detection = { source, startsAt, receivedAt, ...(annotations.ttdSeconds ? { ttdSeconds: annotations.ttdSeconds } : {}) };
    note(entry.alertOpened({ message: `incident opened: ${input.alert.alertname} (${input.alert.severity}) on ${input.target}; playbook ${pb.name}`, data: { detection } }));
    // The alert's own expression is hostile: graphed only when the playbook allow-lists it.
    const graph = graphFor(pb, input.alert, ctx);
    if (graph.refused) note(entry.graphRefused({ message: graph.refused, data: { graph: { refused: true, ...(graph.query ? { query: graph.query } : {}) } } }));
    if (overflow) {
      note(
        entry.escalationOverflow({
          message: `overflow incident: ${overflow.reason}; alerts of further new groups are recorded here and escalated, and medic acts on none of them`,
          data: { overflow },
        }),
      );
      s.escalationReason = `alert flood: ${overflow.reason}`;
      s.phase = 'escalate';
    }
  }
  if (source.refusal) {
    // Not a playbook this worker loaded: escalate at once, before any gate, lock or step.
    note(entry.playbookRefused({ message: `blocked: ${source.refusal.reason}; nothing runs`, data: { playbook: { requested: source.refusal.ref ?? null, loaded: source.refusal.loaded } } }));
    s.escalationReason = source.refusal.reason;
    if (s.phase !== 'done') s.phase = 'escalate';
  }
  // Handlers after the opening entry: the signal that started us is delivered when registered.
  setHandler(alertSignal, (alerts) => {
    for (const a of applyAlerts(s, alerts, fingerprintCap)) {
      const correlated = a.annotations.medicCorrelation ? ` — correlated: ${a.annotations.medicCorrelation}` : '';
      const over = a.annotations.medicOverflow ? ` — over the open-incident cap; would have opened ${a.annotations.medicOverflow}` : '';
      note(entry.alertReceived({ message: `${a.alertname} ${a.status} (${a.severity}) from ${a.source}${correlated}${over}`, data: { labels: a.labels, status: a.status, source: a.source } }));
    }
  });
  setHandler(pauseSignal, (pause) => {
    s.pause = pause;
    note(
      entry.killSwitch({
        message: pause.paused ? `kill switch ON by ${pause.by ?? '?'}` : `kill switch OFF by ${pause.by ?? '?'}`,
        data: { paused: pause.paused, ...(pause.by ? { by: pause.by } : {}), ...(pause.reason ? { reason: pause.reason } : {}) },
      }),
    );
  });
  setHandler(lockFreedSignal, () => void (lockFreed = true));
  setHandler(statusQuery, () => statusOf(s, input, wfId));
  setHandler(timelineQuery, () => s.timeline);
  // Chaos drills (workflows/drill.ts) join the incident's thread and timeline with their report.
  setHandler(sinkRefsQuery, () => s.sinkRefs);
  setHandler(drillReportSignal, ({ message, report }) => note(entry.drillReport({ message, data: { drill: report } })));
  // Identity in these Updates is accepted only from medic's app (workflows/identity.ts): a forged
  // one is recorded and refused. After the check (an await) the state is checked again: another
  // decision may have landed meanwhile. Validators refuse before anything reaches history.
  const forged = (kind: IdentityKind, user: string, what: string) => (reason: string): void =>
    note(entry.forged({ message: `refused a forged ${what} claiming to be ${user}: ${reason}`, data: { forged: { kind, user, what, reason } } }));
  const refusedNow = (why: string | undefined): void => {
    if (why) throw ApplicationFailure.create({ message: why, type: 'Refused', nonRetryable: true });
  };
  setHandler(
    decideUpdate,
    async (d) => {
      if (identityChecked()) {
        const what = `${d.decision === 'approve' ? 'approval' : 'denial'} of ${stepLabel(s.pendingApproval?.step ?? s.stepIndex)}`;
        await requireSignedIdentity('decide', incidentId, d, forged('decide', d.user, what));
        refusedNow(refuseDecision(s, d, Date.now()));
      }
      const applied = applyDecision(s, d, Date.now(), stepLabel);
      note(applied.entry);
      return applied.result;
    },
    {
      validator: (raw) => {
        const parsed = DecisionInputSchema.safeParse(raw);
        if (!parsed.success) throw new Error(`invalid decision: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
        const why = refuseDecision(s, parsed.data, Date.now());
        if (why) throw new Error(why);
      },
    },
  );

  // A person takes the escalated incident (slack-group rung) or resolves it (workflows/ladder.ts).
  setHandler(
    takeUpdate,
    async (t) => {
      if (identityChecked()) {
        await requireSignedIdentity('take', incidentId, t, forged('take', t.user, 'take of the incident'));
        refusedNow(refuseTake(s, t));
      }
      const at = Date.now();
      applyTake(s, t, at, note, setStatus);
      return { by: t.user, at, rung: t.rung };
    },
    { validator: (raw) => validateTake(s, raw) },
  );
  setHandler(
    resolveUpdate,
    async (r) => {
      if (identityChecked()) {
        await requireSignedIdentity('resolve', incidentId, r, forged('resolve', r.user, 'resolve of the incident'));
        refusedNow(refuseResolve(s));
      }
      const at = Date.now();
      s.resolvedBy = { by: r.user, at, ...(r.reason ? { reason: r.reason } : {}) };
      note(entry.resolvedByHand({ message: `${r.user} resolved the incident by hand${r.reason ? `: ${r.reason}` : ''}`, data: { resolvedBy: s.resolvedBy } }));
      return { by: r.user, at };
    },
    { validator: (raw) => validateResolve(s, raw) },
  );
  /** Nothing more to do: the alert resolved, or a person resolved the incident. */
  const ended = (): boolean => s.resolvedByAlert || s.resolvedBy !== undefined;

  const finish = (status: 'resolved' | 'escalated', outcome: string, unverifiedStep?: number): void => {
    setStatus(status);
    s.outcome = outcome;
    s.endedAt = Date.now();
    s.phase = 'done';
    note(entry.resolution({ message: `${status}: ${outcome}`, data: { status, outcome, ...(unverifiedStep !== undefined ? { unverifiedStep } : {}) } }));
  };

  const toEscalation = (reason: string): void => {
    s.escalationReason = reason;
    s.phase = 'escalate';
  };

  const nextStep = (reason: string, dryRunAll = false): void => {
    const step = currentStep();
    s.pendingApproval = undefined;
    s.approval = undefined;
    s.verify = undefined;
    s.holdStartedAt = undefined;
    s.lastHold = undefined;
    const next = dryRunAll ? advanceAfterDryRun(pb, s.stepIndex) : advance(pb, s, reason);
    if (next.kind === 'retry') {
      s.stepTry = next.stepTry;
      note(entry.actionRetrying({ message: `${stepLabel()}: ${reason}; trying again (try ${s.stepTry} of ${step.attempts})`, data: { reason, step: s.stepIndex, try: s.stepTry } }));
    } else if (next.kind === 'next') {
      s.stepIndex = next.stepIndex;
      s.stepTry = 1;
      note(entry.actionMovedOn({ message: `${reason}; moving on to ${stepLabel()}`, data: { reason, step: s.stepIndex } }));
    } else {
      toEscalation(next.reason);
      return;
    }
    s.phase = 'gates';
  };

  // Learning: each run of a step (action + verification of one try) is reported to the governor,
  // which auto-demotes a step that keeps failing (src/policy/demotion.ts).
  const recordRun = async (ok: boolean): Promise<void> => {
    if (!patched('auto-demotion')) return;
    try {
      await governor.governorRecordStepRun({
        playbook: pb.name,
        step: s.stepIndex,
        stepName: currentStep().name,
        ok,
        incidentId,
        demoteAfter: pb.limits.demoteAfter,
        key: `${incidentId}:run:${s.stepIndex}:${s.stepTry}`,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn(`recording the step run failed: ${failureText(err)}`, { incidentId });
    }
  };

  const holdTooLong = (now: number): boolean =>
    s.holdStartedAt !== undefined && now - s.holdStartedAt >= toMs(pb.limits.maxHold);

  async function gatesPhase(): Promise<void> {
    const step = currentStep();
    const now = Date.now();
    // A target picked by alert data outside the playbook's allow-lists fails the step before the
    // governor sees it: nothing acts and no budget is spent (src/policy/targets.ts).
    const refused = patched('kubernetes-target-allow-list') ? kubernetesRefusal(step, ctx, pb.allow?.kubernetes) : undefined;
    if (refused) {
      const decisions = [targetGate(refused)];
      note(entry.gateBlocked({ message: `${stepLabel()} blocked: target refused: ${refused.message}`, step: s.stepIndex, data: { decisions, refusal: refused } }));
      return nextStep(`target refused (${refused.message})`);
    }
    const targets = step.targets.map((t) => render(t, ctx));
    const local = localGates({
      pause: s.pause,
      maintenanceWindows: pb.maintenanceWindows,
      deploymentLabel: pb.deploymentLabel,
      labels: ctx.labels,
      annotations: ctx.annotations,
      targets: targets.length > 0 ? targets : [input.target],
      blastRadius: pb.limits.blastRadius,
      now,
    });
    const localVerdict = combine(local);
    const needsApproval = requiresApproval(step, mode) && s.approval?.decision !== 'approve';
    const begin = localVerdict.verdict === 'allow' && !needsApproval;
    // One governor round trip takes/renews the target lock and, when ready to act, admits the action.
    const r = await governor.governorAdmit({
      target: input.target,
      workflowId: wfId,
      incidentId,
      leaseMs: opts.lockLeaseMs,
      key: key('admit'),
      ...(begin ? { begin: pb.limits } : {}),
      step: { playbook: pb.name, index: s.stepIndex, demoteAfter: pb.limits.demoteAfter, approved: s.approval?.decision === 'approve' },
    });
    s.pause = r.pause;
    if (!r.granted) {
      if (s.lockHolder !== r.holder) note(entry.lockWaiting({ message: `${input.target} is already being healed by ${r.holder}; waiting`, data: { target: input.target, ...(r.holder ? { holder: r.holder } : {}) } }));
      s.lockHolder = r.holder;
      setStatus('holding');
      s.holdStartedAt ??= now;
      if (holdTooLong(now)) return toEscalation(`waited ${pb.limits.maxHold} for ${r.holder} to release ${input.target}`);
      await condition(() => lockFreed || ended(), LOCK_RECHECK_MS);
      lockFreed = false;
      return;
    }
    if (!s.lockHeld) note(entry.lockAcquired({ message: `lock on ${input.target} acquired`, data: { target: input.target } }));
    s.lockHeld = true;
    const decisions = [...local, ...r.decisions];
    const verdict = begin ? (r.allowed ? ({ verdict: 'allow' } as const) : combine(r.decisions)) : localVerdict;
    const data = { decisions };
    const demoted = r.demotion?.reason !== undefined && !needsApproval && s.approval?.decision !== 'approve';
    if (demoted && verdict.verdict === 'allow' && s.demoted?.step !== s.stepIndex) {
      s.demoted = { step: s.stepIndex, reason: r.demotion?.reason ?? '' };
      const msg = `step ${s.stepIndex + 1} (${step.name}) auto-demoted to require approval: ${s.demoted.reason}`;
      note(entry.gateDemoted({ message: msg, step: s.stepIndex, data: r.demotion ? { demotion: r.demotion } : {} }));
      if (step.approvers.length === 0 && pb.demotionApprovers.length === 0) {
        return toEscalation(`${msg}; nobody may approve it (the step lists no approvers and the playbook no demotionApprovers)`);
      }
    }
    if (verdict.verdict === 'allow') {
      const gates = [...new Set(decisions.map((d) => d.gate))].join(', ');
      note(entry.gatePassed({ message: `gates passed for ${stepLabel()}: ${gates}`, step: s.stepIndex, data }));
      s.holdStartedAt = undefined;
      s.lastHold = undefined;
      s.phase = needsApproval || demoted ? 'approval' : 'act';
      return;
    }
    if (verdict.verdict === 'block') {
      note(entry.gateBlocked({ message: `${stepLabel()} blocked: ${verdict.reasons.join('; ')}`, step: s.stepIndex, data }));
      return toEscalation(`policy blocked ${stepLabel()}: ${verdict.reasons.join('; ')}`);
    }
    const message = `holding ${stepLabel()}: ${verdict.reasons.join('; ')}`;
    if (message !== s.lastHold) note(entry.gateHeld({ message, step: s.stepIndex, data }));
    s.lastHold = message;
    setStatus('holding');
    // maxHold is for holds that may never end by themselves (kill switch, limits, deployments).
    // A maintenance window is planned and ends on its own: the step waits it out, and time
    // inside it does not count toward maxHold.
    const inWindow = decisions.some((d) => d.gate === 'maintenance-window' && d.outcome === 'wait');
    if (inWindow) s.holdStartedAt = undefined;
    else s.holdStartedAt ??= now;
    if (holdTooLong(now)) return toEscalation(`held longer than ${pb.limits.maxHold}: ${verdict.reasons.join('; ')}`);
    const pausedBefore = s.pause.paused;
    // Look again at least every half lease: the governor call at the top renews the target's lease.
    const waitMs = Math.min(Math.max(1_000, verdict.untilMs - now), opts.lockLeaseMs / 2);
    await condition(() => ended() || s.pause.paused !== pausedBefore, waitMs);
  }

  async function approvalPhase(): Promise<void> {
    const step = currentStep();
    // Nobody is asked to approve a request that would be refused (workflows/actions.ts): the step
    // fails here, nothing sent, as it would when acting.
    const refused = s.pendingApproval?.step !== s.stepIndex ? stepRefusal(step, ctx) : undefined;
    if (refused && patched('typed-render')) {
      note(entry.actionFailed({ message: `${stepLabel()} failed: refused, nothing was sent: ${refused.message}`, step: s.stepIndex, data: { details: { refusal: refused } } }));
      return nextStep(`action failed (refused, nothing was sent: ${refused.message})`);
    }
    if (s.pendingApproval?.step !== s.stepIndex) {
      const what = `${stepLabel()}: ${describeAction(step, ctx)}`;
      const fallback = s.demoted?.step === s.stepIndex || mode === 'approve-all';
      const approvers = approversOf(pb, step, fallback);
      if (approvers.length === 0) return toEscalation(`mode approve-all: nobody may approve ${what} (the step lists no approvers and the playbook no demotionApprovers)`);
      // Four-eyes means two distinct approvers (requests from before that counted one approval).
      const needed = step.fourEyes && patched('four-eyes-two-approvers') ? 2 : undefined;
      s.pendingApproval = approvalRequest({ ...step, approvers }, s.stepIndex, what, input.requestedBy, Date.now(), toMs(step.approvalTimeout), needed);
      s.approval = undefined;
      const p = s.pendingApproval;
      note(
        entry.approvalRequested({
          message: `approval needed for ${what} — risk ${p.risk}; approvers: ${p.approvers.join(', ')}${p.fourEyes ? ` (four-eyes${p.needed ? `: ${p.needed} different approvers` : ''})` : ''}; expires ${new Date(p.expiresAt).toISOString()}`,
          step: s.stepIndex,
          data: { request: p },
        }),
      );
    }
    setStatus('awaiting_approval');
    const p = s.pendingApproval;
    await condition(() => s.approval !== undefined || ended(), Math.max(0, p.expiresAt - Date.now()));
    if (s.approval?.decision === 'approve') {
      s.phase = 'gates'; // gates are evaluated again: the world may have changed while waiting
    } else if (s.approval?.decision === 'deny') {
      toEscalation(`${stepLabel()} denied by ${s.approval.by}: ${s.approval.reason ?? 'no reason given'}`);
    } else if (!ended()) {
      s.approval = { decision: 'expired', by: 'medic', at: Date.now() };
      note(entry.approvalExpired({ message: `approval for ${stepLabel()} expired unanswered`, step: s.stepIndex, data: {} }));
      toEscalation(`approval for ${stepLabel()} expired after ${step.approvalTimeout}`);
    }
  }

  async function actPhase(): Promise<void> {
    const step = currentStep();
    setStatus('acting');
    const idempotencyKey = `${incidentId}:step-${s.stepIndex}:try-${s.stepTry}`;
    const dryRun = isDryRun(pb, step, mode);
    note(
      entry.actionStarted({
        message: `${stepLabel()} ${dryRun ? 'dry run' : 'started'}: ${describeAction(step, ctx)}`,
        step: s.stepIndex,
        // The action's kind feeds the store's actions-by-type KPI.
        data: { idempotencyKey, stepName: step.name, try: s.stepTry, dryRun, ...(patched('action-kind-in-timeline') ? { action: step.action } : {}) },
      }),
    );
    let error: string | undefined;
    let refusedRun = false;
    try {
      const r = await runAction(step, ctx, { idempotencyKey, dryRun }, pb.allow);
      if (!dryRun) s.acted = true;
      note(entry.actionSucceeded({ message: `${stepLabel()} finished: ${r.summary} (${r.durationMs}ms)`, step: s.stepIndex, data: { dryRun, ...httpStatusOf(r.data), output: r.data } }));
    } catch (err) {
      if (isCancellation(err)) throw err;
      // A refused render sent nothing (src/playbooks/render.ts): the target was not touched.
      const refused = err instanceof ApplicationFailure && err.type === RENDER_REFUSED;
      // Neither did an SSM or Kubernetes refusal (a value or target outside the playbook's rules):
      // such a run is not a failed remediation, or hostile alerts could demote a step for everyone.
      refusedRun = refused || (patched('refusal-not-a-failed-run') && isRefusal(err));
      if (!refusedRun) s.acted = true;
      error = failureText(err);
      const details = refused ? err.details?.[0] : (err as { cause?: { details?: unknown[] } }).cause?.details?.[0];
      const known = details && typeof details === 'object' ? (details as Record<string, unknown>) : undefined;
      note(entry.actionFailed({ message: `${stepLabel()} failed: ${error}`, step: s.stepIndex, data: known ? { ...httpStatusOf(known), details: known } : {} }));
    } finally {
      await CancellationScope.nonCancellable(() =>
        governor.governorEndAction({ target: input.target, workflowId: wfId, key: key('end') }),
      );
    }
    if (error !== undefined) {
      if (!refusedRun) await recordRun(false);
      return nextStep(`action failed (${error})`);
    }
    if (dryRun) {
      note(entry.verificationSkipped({ message: 'dry run: verification skipped', step: s.stepIndex, data: {} }));
      if (mode === 'dry-run') return nextStep('dry run', true);
      return toEscalation('dry run: no action was taken; a human decides');
    }
    s.verify = undefined;
    s.phase = 'verify';
  }

  async function verifyPhase(): Promise<void> {
    const step = currentStep();
    const v = step.verification;
    if (!v) {
      await recordRun(true);
      return finish('resolved', `${stepLabel()} succeeded (no verification configured)`, s.stepIndex);
    }
    setStatus('verifying');
    // Refused values fail the step before it acts (workflows/actions.ts runAction); 'plain' is only
    // reached replaying histories from before typed rendering.
    const probe = verificationTargets(v, ctx, 'plain');
    if (!s.verify) {
      s.verify = { startedAt: Date.now(), probes: 0 };
      const what = [
        v.http ? `${v.http.method} ${probe.httpUrl}` : '',
        v.promql ? `PromQL ${probe.promqlQuery}` : '',
        v.kubernetes ? describeKubernetesCheck(kubernetesCheck(v.kubernetes, ctx)) : '',
      ]
        .filter(Boolean)
        .join(' and ');
      note(entry.verificationStarted({ message: `verifying ${stepLabel()}: ${what} must pass for ${v.window} (deadline ${v.deadline})`, step: s.stepIndex, data: {} }));
    }
    // Every configured probe runs each round (in parallel); all must pass. PromQL "no data" is a
    // scrape gap: tolerated for maxNoData rounds without resetting the window, then a failure.
    // (A kubernetes probe exists only in playbooks written after it was added, so histories
    // recorded before never reach that branch: replay-safe without a patch marker.)
    const [http, promql, k8s] = await Promise.all([
      v.http
        ? proxyActivities<Activities>(probeProfile(toMs(v.http.timeout))).httpProbe({
            url: probe.httpUrl ?? '',
            method: v.http.method,
            expectStatus: v.http.expectStatus,
            ...(v.http.bodyContains !== undefined ? { bodyContains: v.http.bodyContains } : {}),
            timeoutMs: toMs(v.http.timeout),
          })
        : undefined,
      v.promql
        ? proxyActivities<Activities>(probeProfile(toMs(v.promql.timeout))).promqlProbe({
            query: probe.promqlQuery ?? '',
            ...(v.promql.prometheusUrl ? { prometheusUrl: v.promql.prometheusUrl } : {}),
            timeoutMs: toMs(v.promql.timeout),
          })
        : undefined,
      v.kubernetes ? kubernetesProbe(kubernetesCheck(v.kubernetes, ctx)) : undefined,
    ]);
    const noData = promql?.outcome === 'nodata';
    s.verify.noData = noData ? (s.verify.noData ?? 0) + 1 : 0;
    const gapTolerated = noData && s.verify.noData <= (v.promql?.maxNoData ?? 0);
    const r = {
      ok: (http?.ok ?? true) && (promql ? promql.outcome === 'pass' : true) && (k8s?.ok ?? true),
      evidence: [http?.evidence, promql?.evidence, k8s?.evidence].filter(Boolean).join('; '),
    };
    if (gapTolerated && (http?.ok ?? true) && (k8s?.ok ?? true)) {
      s.verify.probes += 1;
      s.verify.lastEvidence = r.evidence;
      await sleep(toMs(v.interval));
      return;
    }
    const now = Date.now();
    const st = s.verify;
    st.probes += 1;
    st.lastEvidence = r.evidence;
    if (r.ok) {
      st.passingSince ??= now;
      if (now - st.passingSince >= toMs(v.window)) {
        note(entry.verificationPassed({ message: `verified: healthy for ${v.window} (${st.probes} probes); ${r.evidence}`, step: s.stepIndex, data: {} }));
        await recordRun(true);
        return finish('resolved', `healed by ${stepLabel()}`);
      }
    } else {
      if (st.passingSince !== undefined || st.probes === 1) note(entry.verificationProbeFailed({ message: `probe failed: ${r.evidence}`, step: s.stepIndex, data: {} }));
      st.passingSince = undefined;
    }
    if (now - st.startedAt >= toMs(v.deadline)) {
      note(
        entry.verificationFailed({
          message: `verification failed: not healthy for ${v.window} within ${v.deadline}; last: ${r.evidence}`,
          step: s.stepIndex,
          data: { evidence: r.evidence, probes: st.probes },
        }),
      );
      await recordRun(false);
      return nextStep('verification failed');
    }
    await sleep(toMs(v.interval));
  }

  // PagerDuty pages go out in the background (a 429 or an outage is retried with backoff) while
  // the incident goes on; a resolve waits for its trigger to land first.
  const pd = proxyActivities<Activities>(pagerdutyProfile);
  let paging: Promise<void> = Promise.resolve();
  const pagerdutyPage = (rung: number, routingKeySecret: string): void => {
    const uiUrl = opts.temporalUiUrl ? { temporalUiUrl: opts.temporalUiUrl } : {};
    const page = buildPage(s, input, { workflowId: wfId, namespace: info.namespace, ...uiUrl }, Date.now());
    const sent = { rung, routingKeySecret, dedupKey: page.dedupKey, sent: false };
    (s.pages ??= []).push(sent);
    note(entry.pageSending({ message: `paging PagerDuty (dedup_key ${page.dedupKey}): ${page.summary}`, data: { pagerduty: { event_action: 'trigger', routingKeySecret, ...page } } }));
    paging = paging.then(async () => {
      try {
        const r = await pd.pagerdutyTrigger({ routingKeySecret, page });
        sent.sent = true;
        note(entry.pageAccepted({ message: `PagerDuty accepted the page: ${r.status} ${r.message} (dedup_key ${r.dedupKey})`, data: { pagerduty: r } }));
      } catch (err) {
        if (isCancellation(err)) throw err;
        note(entry.pageFailed({ message: `PagerDuty page failed: ${failureText(err)}`, data: {} }));
      }
    });
  };
  const resolvePages = async (): Promise<void> => {
    await paging;
    for (const p of s.pages ?? []) {
      if (!p.sent || p.resolved) continue;
      note(
        entry.pageResolving({
          message: `resolving the PagerDuty alert (dedup_key ${p.dedupKey})`,
          data: { pagerduty: { event_action: 'resolve', routingKeySecret: p.routingKeySecret, dedupKey: p.dedupKey } },
        }),
      );
      try {
        const r = await pd.pagerdutyResolve({ routingKeySecret: p.routingKeySecret, dedupKey: p.dedupKey });
        p.resolved = true;
        note(entry.pageResolved({ message: `PagerDuty accepted the resolve: ${r.status} ${r.message}`, data: { pagerduty: r } }));
      } catch (err) {
        if (isCancellation(err)) throw err;
        note(entry.pageResolveFailed({ message: `PagerDuty resolve failed: ${failureText(err)}`, data: {} }));
      }
    }
  };

  // One rung that fires without waiting for anyone (the ladder waits around it: workflows/ladder.ts).
  const fireRung = async (i: number, rung: FiredRung): Promise<void> => {
    if (rung.kind === 'record') return void note(entry.handedOver({ message: `handed over to ${rung.to}`, data: { to: rung.to } }));
    if (rung.kind === 'pagerduty') return pagerdutyPage(i, rung.routingKeySecret);
    const request = renderRequest(rung.request, i);
    if (request) await notifyWebhook(request, `${incidentId}:escalation-${i}`, note);
  };
  const resolveByHuman = async (r: NonNullable<IncidentState['resolvedBy']>): Promise<void> => {
    await resolvePages(); // a page sent is resolved with the same dedup_key
    finish('resolved', humanOutcome(r));
  };

  async function escalatePhase(): Promise<void> {
    if (!s.escalationSent) {
      setStatus('escalated');
      note(entry.escalationStarted({ message: `escalating: ${s.escalationReason ?? 'unknown reason'}`, data: { reason: s.escalationReason ?? 'unknown reason' } }));
      if (patched('escalation-ladder')) await runLadder({ s, rungs: pb.escalation, note, fire: fireRung, resolved: ended });
      else {
        // Histories from before the ladder: exactly the old loop (no extra awaits, so the commands
        // keep their order: the hold timer before the publish and page activities).
        for (const [i, rung] of pb.escalation.entries()) {
          if (rung.kind === 'record') {
            note(entry.handedOver({ message: `handed over to ${rung.to}`, data: { to: rung.to } }));
            continue;
          }
          if (rung.kind === 'pagerduty') {
            pagerdutyPage(i, rung.routingKeySecret);
            continue;
          }
          if (rung.kind !== 'webhook') continue;
          const request = renderRequest(rung.request, i);
          if (!request) continue;
          try {
            const r = await proxyActivities<Activities>(actionProfile({ timeout: '10s', retries: 5 })).httpAction({
              request,
              idempotencyKey: `${incidentId}:escalation-${i}`,
              dryRun: false,
              timeoutMs: 10_000,
            });
            note(entry.notified({ message: `notified ${r.summary}`, data: {} }));
          } catch (err) {
            if (isCancellation(err)) throw err;
            note(entry.webhookFailed({ message: `escalation webhook ${request.url} failed: ${failureText(err)}`, data: {} }));
          }
        }
      }
      s.escalationSent = true;
    }
    if (patched('escalation-hold-continue-as-new')) {
      // Alerts keep arriving while escalated (a flood into the overflow incident): wake up to
      // continue as new when history grows, then wait out the rest of the hold.
      const holdUntil = (s.holdUntil ??= Date.now() + toMs(pb.holdAfterEscalation));
      await condition(() => ended() || historyTooLong(), Math.max(0, holdUntil - Date.now()));
      if (!ended() && Date.now() < holdUntil) return;
    } else await condition(ended, toMs(pb.holdAfterEscalation));
    if (s.resolvedBy && patched('human-resolve')) return resolveByHuman(s.resolvedBy);
    if (s.resolvedByAlert) {
      await resolvePages();
      return finish('resolved', `alert resolved after escalation (${s.escalationReason ?? ''})`);
    }
    return finish('escalated', s.escalationReason ?? 'escalated');
  }

  function historyTooLong(): boolean {
    const now = workflowInfo();
    return now.continueAsNewSuggested || now.historyLength > opts.maxHistoryEvents;
  }

  const phases = { gates: gatesPhase, approval: approvalPhase, act: actPhase, verify: verifyPhase, escalate: escalatePhase };

  try {
    while (s.phase !== 'done') {
      if (historyTooLong()) {
        await condition(allHandlersFinished);
        await paging;
        flush();
        // Under a flood, entries keep arriving while a publish runs: chasing them would never
        // let the run continue as new (history grows without bound). They are carried instead.
        if (patched('continue-as-new-carries-unpublished')) carryUnpublished = true;
        await publishing;
        continuing = true;
        return await continueAsNew<typeof incidentWorkflow>({ ...input, carried: s });
      }
      if (s.resolvedBy && patched('human-resolve')) {
        await resolveByHuman(s.resolvedBy);
        break;
      }
      if (s.resolvedByAlert && (s.phase === 'gates' || s.phase === 'approval')) {
        finish('resolved', 'alert resolved before medic acted');
        break;
      }
      await phases[s.phase]();
    }
  } finally {
    // Always tell the governor: it also drops us from the waiters of a lock we never got.
    if (!continuing) {
      const cooldown = s.status === 'escalated' && s.acted ? { incidentId, ms: toMs(pb.cooldown) } : undefined;
      await CancellationScope.nonCancellable(() =>
        governor.governorRelease({ target: input.target, workflowId: wfId, key: key('release'), ...(cooldown ? { cooldown } : {}) }),
      );
    }
  }
  await condition(allHandlersFinished);
  await paging; // a page still being retried is not dropped when the incident ends
  flush();
  await publishing;
  return statusOf(s, input, wfId);
}
