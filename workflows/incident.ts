// One incident = one workflow: a thin interpreter of the decision core (src/incident/machine.ts).
// Signals, Updates, activity answers and timers become events; next() decides; the commands it
// returns are carried out by effects.ts (governor, actions, probes, timers), paging.ts and the
// outbox (outbox.ts). The state is the core's, so the run can continue as new between events.
import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { next } from '../src/incident/machine.js';
import { DEFAULT_OPTIONS, newState, refuseDecision, statusOf, unpublished, upgradeCarriedTimeline } from '../src/incident/state.js';
import { TRACE_CAP, traceOf, type TraceEntry } from '../src/incident/trace.js';
import type { IncidentCommand, UntimedEvent } from '../src/incident/types.js';
import {
  alertSignal,
  decideUpdate,
  decisionsQuery,
  DecisionInputSchema,
  lockFreedSignal,
  pauseSignal,
  resolveUpdate,
  snoozeUpdate,
  SnoozeInputSchema,
  statusQuery,
  takeUpdate,
  timelineQuery,
  type IdentityKind,
  type IncidentInput,
  type IncidentState,
  type IncidentStatus,
} from './contracts.js';
import { drillReportSignal, sinkRefsQuery } from './contracts-drill.js';
import { incidentEnv } from './describe.js';
import { effects } from './effects.js';
import { requireSignedIdentity } from './identity.js';
import { validateResolve, validateTake } from './ladder.js';
import { handOver, OUTBOX_GRACE_MS, outbox } from './outbox.js';
import { pager } from './paging.js';
import { refuseSnooze } from '../src/incident/silences.js';
import { incidentIdOf, playbookSource } from './playbook-source.js';

export async function incidentWorkflow(raw: IncidentInput): Promise<IncidentStatus> {
  const info = workflowInfo();
  const opts = { ...DEFAULT_OPTIONS, ...raw.options };
  const wfId = info.workflowId;
  const incidentId = incidentIdOf(wfId, info.firstExecutionRunId);
  let s: IncidentState = raw.carried ?? newState(incidentId, raw.alert, Date.now());
  if (raw.carried) upgradeCarriedTimeline(s); // a run from before typed timelines carried old entries
  // Queries answer while the playbook is looked up (an activity), from the state so far.
  setHandler(statusQuery, () => statusOf(s, { ...raw, playbook: { name: raw.playbookRef?.name ?? raw.playbook?.name ?? '', steps: [] } }, wfId));
  setHandler(timelineQuery, () => s.timeline);
  // The worker's own copy of the playbook version the input names; never the input's body.
  const source = await playbookSource(raw);
  const input = source.input;
  const env = incidentEnv({ input, incidentId, workflowId: wfId, options: opts, namespace: info.namespace, ...(opts.temporalUiUrl ? { temporalUiUrl: opts.temporalUiUrl } : {}) });
  const status = (): IncidentStatus => statusOf(s, input, wfId);
  const box = outbox({ state: () => s, status, cap: opts.timelineCap, ...(opts.temporalUiUrl ? { temporalUiUrl: opts.temporalUiUrl } : {}) });
  const trace: TraceEntry[] = [];
  setHandler(decisionsQuery, () => trace);
  const dispatch = (e: UntimedEvent): IncidentCommand[] => {
    const t = next(env, s, { ...e, at: Date.now() } as Parameters<typeof next>[2]);
    s = t.state;
    trace.push(...t.commands.map(traceOf));
    if (trace.length > TRACE_CAP) trace.splice(0, trace.length - TRACE_CAP);
    for (const c of t.commands) fx.run(c);
    return t.commands;
  };
  const fx = effects({ env, workflowId: wfId, state: () => s, dispatch, outbox: box, pager: pager(dispatch) });

  dispatch({ kind: 'start', carried: input.carried !== undefined, ...(input.scope ? { scope: input.scope } : {}), ...(input.overflow ? { overflow: input.overflow } : {}), ...(source.refusal ? { refusal: source.refusal } : {}) });
  if (input.carried) box.kick(); // entries the previous run noted while continuing as new
  // Handlers after the opening entry: the signal that started us is delivered when registered.
  setHandler(alertSignal, (alerts) => void dispatch({ kind: 'alerts', alerts }));
  setHandler(pauseSignal, (pause) => void dispatch({ kind: 'pause', pause }));
  setHandler(lockFreedSignal, () => void dispatch({ kind: 'lockFreed' }));
  setHandler(statusQuery, status);
  setHandler(timelineQuery, () => s.timeline);
  // Chaos drills (workflows/drill.ts) join the incident's thread and timeline with their report.
  setHandler(sinkRefsQuery, () => s.sinkRefs);
  setHandler(drillReportSignal, ({ message, report }) => void dispatch({ kind: 'drillReport', message, report }));

  // Identity in these Updates is accepted only from medic's app (workflows/identity.ts): a forged
  // one is recorded and refused. Validators refuse before anything reaches history; after the
  // check (an await) the core checks again: another decision may have landed meanwhile.
  const checked = async <T>(kind: IdentityKind, claim: { user: string }, what: string, event: UntimedEvent): Promise<T> => {
    await requireSignedIdentity(kind, incidentId, claim, (reason) => void dispatch({ kind: 'forged', idKind: kind, user: claim.user, what, reason }));
    const cs = dispatch(event);
    const refused = cs.find((c) => c.kind === 'refuse');
    if (refused) throw ApplicationFailure.create({ message: refused.reason, type: 'Refused', nonRetryable: true });
    return cs.find((c) => c.kind === 'answer')!.value as T;
  };
  const label = (i: number): string => `step ${i + 1}/${input.playbook.steps.length} (${input.playbook.steps[i]?.name ?? '?'})`;
  setHandler(decideUpdate, (d) => checked('decide', d, `${d.decision === 'approve' ? 'approval' : 'denial'} of ${label(s.pendingApproval?.step ?? s.stepIndex)}`, { kind: 'decided', decision: d }), {
    validator: (raw) => {
      const parsed = DecisionInputSchema.safeParse(raw);
      if (!parsed.success) throw new Error(`invalid decision: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
      const why = refuseDecision(s, parsed.data, Date.now());
      if (why) throw new Error(why);
    },
  });
  // A person takes the escalated incident (slack-group rung) or resolves it.
  setHandler(takeUpdate, (t) => checked('take', t, 'take of the incident', { kind: 'taken', take: t }), { validator: (raw) => validateTake(s, raw) });
  setHandler(resolveUpdate, (r) => checked('resolve', r, 'resolve of the incident', { kind: 'resolvedByHand', resolve: r }), { validator: (raw) => validateResolve(s, raw) });
  // Snooze: an Alertmanager silence for a chosen time, by someone allowed to approve its steps.
  setHandler(snoozeUpdate, (sn) => checked('snooze', sn, `snooze for ${sn.duration}`, { kind: 'snoozed', snooze: sn }), {
    validator: (raw) => {
      const parsed = SnoozeInputSchema.safeParse(raw);
      if (!parsed.success) throw new Error(`invalid snooze: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
      const why = refuseSnooze(input.playbook, s.phase === 'done', parsed.data);
      if (why) throw new Error(why);
    },
  });

  const historyTooLong = (): boolean => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > opts.maxHistoryEvents;
  let continuing = false;
  try {
    // Continue as new between events, once nothing is in flight: the state carries the wait in
    // progress (re-armed by the next run) and the unpublished entries.
    await condition(() => s.phase === 'done' || (historyTooLong() && fx.idle() && !s.machine?.inFlight));
    if (s.phase !== 'done') {
      await condition(allHandlersFinished);
      await box.stop();
      continuing = true;
      return await continueAsNew<typeof incidentWorkflow>({ ...input, carried: s });
    }
  } finally {
    await fx.governorSettled();
    // Always tell the governor: it also drops us from the waiters of a lock we never got.
    if (!continuing && !s.machine?.released) await fx.release();
  }
  await condition(allHandlersFinished);
  // A page still being retried after an escalated end: its answer goes into the timeline.
  await condition(() => fx.idle());
  await box.settle();
  // What the sinks have not taken yet is retried by a detached workflow, for a bounded time.
  if (unpublished(s).length > 0) await handOver(s, { incident: status(), until: Date.now() + OUTBOX_GRACE_MS, ...(opts.temporalUiUrl ? { temporalUiUrl: opts.temporalUiUrl } : {}) });
  return status();
}
