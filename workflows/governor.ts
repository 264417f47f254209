// The governor: one long-running workflow holding cross-incident state (kill switch, per-target
// lock leases, rate/concurrency budgets, cooldowns, deployment markers). Incidents reach it
// through Updates, which Temporal applies one at a time, so every decision is durable and ordered.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { admissionGates, governorFacts, pruneTouched, recordTouch } from '../src/policy/admission.js';
import { demotionOf, recordRun, stepKey } from '../src/policy/demotion.js';
import {
  admitUpdate,
  endActionUpdate,
  governorStateQuery,
  lockFreedSignal,
  pauseSignal,
  PromoteStepInputSchema,
  promoteStepUpdate,
  recordStepRunUpdate,
  releaseUpdate,
  SetDeploymentInputSchema,
  setDeploymentUpdate,
  SetPausedInputSchema,
  setPausedUpdate,
  type GovernorState,
} from './contracts.js';

const HOUR = 3_600_000;
const STALE_INCIDENT_MS = 7 * 24 * HOUR;
/** A waiting incident asks again at least every 30 s; one not heard from this long is gone. */
const STALE_WAITER_MS = 10 * 60_000;

export function emptyGovernorState(): GovernorState {
  return {
    pause: { paused: false },
    locks: {},
    waiters: {},
    starts: [],
    inFlight: {},
    cooldowns: {},
    deployments: {},
    incidents: {},
    steps: {},
  };
}

export interface GovernorInput {
  state?: GovernorState;
  /** For tests: continue as new after this many history events. */
  maxHistoryEvents?: number;
}

export async function governorWorkflow(input: GovernorInput = {}): Promise<void> {
  const s: GovernorState = input.state ?? emptyGovernorState();
  const maxEvents = input.maxHistoryEvents ?? 5_000;
  const steps = (s.steps ??= {}); // state carried from before auto-demotion existed has none

  const prune = (now: number): void => {
    s.starts = s.starts.filter((x) => x.at > now - HOUR);
    for (const [t, lock] of Object.entries(s.locks)) if (lock.expiresAt <= now) delete s.locks[t];
    for (const [t, c] of Object.entries(s.cooldowns)) if (c.until <= now) delete s.cooldowns[t];
    for (const [t, d] of Object.entries(s.deployments)) if (d.until <= now) delete s.deployments[t];
    for (const [id, at] of Object.entries(s.incidents)) if (at < now - STALE_INCIDENT_MS) delete s.incidents[id];
    pruneTouched(s, now);
  };
  // Bounded state (intake limits): entries of incidents that ended without releasing (terminated)
  // are dropped too — waiters not heard from in a while, in-flight actions of workflows that no
  // longer hold the target's lease — on every update and before continue-as-new, so the state
  // carried from run to run does not grow.
  const pruneAll = (now: number): void => {
    prune(now);
    for (const [t, ids] of Object.entries(s.waiters)) {
      const live = ids.filter((id) => (s.incidents[id] ?? -Infinity) > now - STALE_WAITER_MS);
      if (live.length > 0) s.waiters[t] = live;
      else delete s.waiters[t];
    }
    for (const [t, ids] of Object.entries(s.inFlight)) {
      const live = ids.filter((id) => s.locks[t]?.workflowId === id);
      if (live.length > 0) s.inFlight[t] = live;
      else delete s.inFlight[t];
    }
  };

  const notify = (workflowId: string, send: (h: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>): void => {
    // A finished incident cannot be signalled; that is fine, it no longer needs to know.
    void send(getExternalWorkflowHandle(workflowId)).catch(() => undefined);
  };

  const removeFrom = (list: string[] | undefined, id: string): string[] => (list ?? []).filter((x) => x !== id);

  setHandler(governorStateQuery, () => s);

  setHandler(admitUpdate, ({ target, workflowId, incidentId, leaseMs, begin: asked, step }) => {
    const now = Date.now();
    prune(now);
    pruneAll(now);
    s.incidents[workflowId] = now;
    const lock = s.locks[target];
    if (lock && lock.workflowId !== workflowId) {
      if (!s.waiters[target]?.includes(workflowId)) (s.waiters[target] ??= []).push(workflowId);
      return { granted: false, holder: lock.incidentId, pause: s.pause, decisions: [], allowed: false };
    }
    s.locks[target] = { workflowId, incidentId, expiresAt: now + leaseMs };
    s.waiters[target] = removeFrom(s.waiters[target], workflowId);
    if (s.waiters[target].length === 0) delete s.waiters[target];
    // An auto-demoted step is admitted only once a person approved it.
    const history = step ? steps[stepKey(step.playbook, step.index)] : undefined;
    const d = step && history ? demotionOf(history.runs, step.demoteAfter) : undefined;
    const demotion = d?.demoted ? { demotion: d } : {};
    const begin = d?.demoted && !step?.approved ? undefined : asked;
    const facts = governorFacts(s, now);
    if (!begin) return { granted: true, pause: s.pause, decisions: [], allowed: false, ...demotion, facts };
    // A repeated admission of an action already admitted (activity retry) is not counted again.
    if (s.inFlight[target]?.includes(workflowId)) return { granted: true, pause: s.pause, decisions: [], allowed: true, ...demotion, facts };
    // Blast radius across incidents (limits.maxTargetsPerWindow).
    const budgeted = step ? step.playbook : undefined;
    const { decisions, allowed } = admissionGates(s, target, begin, now, budgeted);
    if (allowed) {
      s.starts.push({ target, at: now });
      (s.inFlight[target] ??= []).push(workflowId);
      if (budgeted !== undefined) recordTouch(s, budgeted, target, begin, now);
    }
    return { granted: true, pause: s.pause, decisions, allowed, ...demotion, facts };
  });

  setHandler(recordStepRunUpdate, ({ playbook, step, stepName, ok, incidentId, demoteAfter }) => {
    pruneAll(Date.now());
    const key = stepKey(playbook, step);
    const prev = steps[key];
    const keep = Math.max(demoteAfter.of, prev?.policy.of ?? 0);
    const runs = recordRun(prev?.runs ?? [], { ok, at: Date.now(), incidentId }, keep);
    steps[key] = { ...prev, playbook, step, stepName, runs, policy: demoteAfter };
    return demotionOf(runs, demoteAfter);
  });

  setHandler(
    promoteStepUpdate,
    ({ playbook, step, by }) => {
      const key = stepKey(playbook, step);
      const before = steps[key];
      const wasDemoted = before ? demotionOf(before.runs, before.policy).demoted : false;
      if (before) steps[key] = { ...before, runs: [], promoted: { by, at: Date.now() } };
      return { ...(before ? { before } : {}), wasDemoted };
    },
    { validator: (input) => void PromoteStepInputSchema.parse(input) },
  );

  setHandler(endActionUpdate, ({ target, workflowId }) => {
    pruneAll(Date.now());
    s.inFlight[target] = removeFrom(s.inFlight[target], workflowId);
    if (s.inFlight[target].length === 0) delete s.inFlight[target];
  });

  setHandler(releaseUpdate, ({ target, workflowId, cooldown }) => {
    pruneAll(Date.now());
    if (cooldown && cooldown.ms > 0) {
      s.cooldowns[target] = { until: Date.now() + cooldown.ms, incidentId: cooldown.incidentId };
    }
    delete s.incidents[workflowId];
    s.inFlight[target] = removeFrom(s.inFlight[target], workflowId);
    if (s.inFlight[target].length === 0) delete s.inFlight[target];
    s.waiters[target] = removeFrom(s.waiters[target], workflowId);
    if (s.locks[target]?.workflowId === workflowId) {
      delete s.locks[target];
      const next = s.waiters[target][0];
      if (next) notify(next, (h) => h.signal(lockFreedSignal));
    }
    if (s.waiters[target].length === 0) delete s.waiters[target];
  });

  setHandler(
    setPausedUpdate,
    ({ paused, by, reason }) => {
      pruneAll(Date.now());
      s.pause = { paused, by, reason, at: Date.now() };
      const pause = s.pause;
      for (const id of Object.keys(s.incidents)) notify(id, (h) => h.signal(pauseSignal, pause));
      return s.pause;
    },
    { validator: (input) => void SetPausedInputSchema.parse(input) },
  );

  setHandler(
    setDeploymentUpdate,
    ({ target, until, by }) => {
      pruneAll(Date.now());
      if (until === null) delete s.deployments[target];
      else s.deployments[target] = { until, by };
    },
    { validator: (input) => void SetDeploymentInputSchema.parse(input) },
  );

  await condition(
    () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > maxEvents,
  );
  await condition(allHandlersFinished);
  pruneAll(Date.now());
  await continueAsNew<typeof governorWorkflow>({ state: s, maxHistoryEvents: input.maxHistoryEvents });
}
