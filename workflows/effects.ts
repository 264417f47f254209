// The decision core's commands carried out over Temporal: governor calls (local activities, one
// at a time and in order, so an action's end is counted before the next admission), the step's
// action and verification probes (activities), durable timers, webhook rungs, PagerDuty (paging.ts)
// and the timeline (outbox.ts). Each call's answer goes back to the core as an event.
import { ApplicationFailure, CancellationScope, getExternalWorkflowHandle, isCancellation, log, proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ActionOutcome, IncidentCommand, IncidentEnv, ProbeRound, UntimedEvent } from '../src/incident/types.js';
import { toMs } from '../src/playbooks/duration.js';
import type { EscalationRung, Step } from '../src/playbooks/schema.js';
import { renderHttpRequest, RENDER_REFUSED, runAction, verificationTargets } from './actions.js';
import { SearchAttributes, type IncidentState } from './contracts.js';
import { ANSIBLE_REFUSED } from './ansible.js';
import { HostReportSchema } from './contracts-timeline.js';
import { incidentEndedSignal } from './contracts-undo.js';
import { kubernetesCheck, kubernetesProbe, TARGET_REFUSED } from './kubernetes.js';
import type { Outbox } from './outbox.js';
import type { Pager } from './paging.js';
import { actionProfile, alertmanagerProfile, evidenceProfile, governor, policyProfile, probeProfile } from './profiles.js';
import { requestFor, unavailablePack } from '../src/incident/evidence.js';

/** Failure types meaning "refused before acting": nothing reached the target. */
const REFUSALS = new Set(['SsmRefused', TARGET_REFUSED, RENDER_REFUSED, ANSIBLE_REFUSED]);
const failureText = (err: unknown): string => {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
};

export interface Effects {
  run(c: IncidentCommand): void;
  /** No governor call, timer-free call or page is in flight (continue-as-new may happen). */
  idle(): boolean;
  /** Resolves when every governor call made so far returned. */
  governorSettled(): Promise<void>;
  release(cooldownMs?: number, key?: string): Promise<void>;
}

export function effects(o: { env: IncidentEnv; workflowId: string; state: () => IncidentState; dispatch: (e: UntimedEvent) => void; outbox: Outbox; pager: Pager }): Effects {
  const { env } = o;
  const pb = env.playbook;
  const timers = new Map<number, CancellationScope>();
  let chain: Promise<void> = Promise.resolve();
  let calls = 0;
  /** Governor calls run one after another, never cancelled (the lock must be released). */
  const gov = (f: () => Promise<void>): void => {
    calls += 1;
    chain = chain.then(() => CancellationScope.nonCancellable(f)).finally(() => void (calls -= 1));
  };
  const step = (i: number): Step => pb.steps[i]!;
  const async = (f: () => Promise<UntimedEvent>): void => {
    calls += 1;
    void f()
      .then(o.dispatch)
      .finally(() => void (calls -= 1));
  };

  const act = async (c: { step: number; idempotencyKey: string; dryRun: boolean }): Promise<ActionOutcome> => {
    try {
      const r = await runAction(step(c.step), env.ctx, { idempotencyKey: c.idempotencyKey, dryRun: c.dryRun }, pb.allow, pb.limits.blastRadius);
      return { ok: true, summary: r.summary, durationMs: r.durationMs, data: r.data, ...(r.hosts ? { hosts: r.hosts } : {}) };
    } catch (err) {
      if (isCancellation(err)) throw err;
      const direct = err instanceof ApplicationFailure && err.type === RENDER_REFUSED;
      const e = err as { type?: string; cause?: { type?: string; details?: unknown[] } };
      const refused = REFUSALS.has(e.type ?? '') || REFUSALS.has(e.cause?.type ?? '');
      const details = direct ? err.details?.[0] : e.cause?.details?.[0];
      // A run over several hosts reports each host, the ones that failed and the others.
      const hosts = HostReportSchema.safeParse((details as { hosts?: unknown } | undefined)?.hosts);
      return {
        ok: false,
        error: failureText(err),
        refused,
        ...(details && typeof details === 'object' ? { details: details as Record<string, unknown> } : {}),
        ...(hosts.success ? { hosts: hosts.data } : {}),
      };
    }
  };

  // A probe that cannot run (no Prometheus configured, retries exhausted) is a failed round with
  // the reason as evidence, never an unhandled rejection that would wedge the workflow task.
  const failedProbe = <T>(p: Promise<T>, failed: (why: string) => T): Promise<T> =>
    p.catch((err: unknown) => {
      if (isCancellation(err)) throw err;
      return failed(`probe could not run: ${failureText(err)}`);
    });

  // Every configured probe runs each round, in parallel.
  const probe = async (i: number): Promise<UntimedEvent> => {
    const v = step(i).verification!;
    const t = verificationTargets(v, env.ctx, 'plain');
    const [http, promql, kubernetes] = await Promise.all([
      v.http
        ? failedProbe(proxyActivities<Activities>(probeProfile(toMs(v.http.timeout))).httpProbe({
            url: t.httpUrl ?? '',
            method: v.http.method,
            expectStatus: v.http.expectStatus,
            ...(v.http.bodyContains !== undefined ? { bodyContains: v.http.bodyContains } : {}),
            timeoutMs: toMs(v.http.timeout),
          }), (evidence) => ({ ok: false, evidence }))
        : undefined,
      v.promql
        ? failedProbe(proxyActivities<Activities>(probeProfile(toMs(v.promql.timeout))).promqlProbe({
            query: t.promqlQuery ?? '',
            ...(v.promql.prometheusUrl ? { prometheusUrl: v.promql.prometheusUrl } : {}),
            timeoutMs: toMs(v.promql.timeout),
          }), (evidence) => ({ outcome: 'fail' as const, evidence, values: [] }))
        : undefined,
      v.kubernetes ? failedProbe(kubernetesProbe(kubernetesCheck(v.kubernetes, env.ctx)), (evidence) => ({ ok: false, evidence })) : undefined,
    ]);
    const round: ProbeRound = {
      ...(http ? { http: { ok: http.ok, evidence: http.evidence } } : {}),
      ...(promql ? { promql: { outcome: promql.outcome, evidence: promql.evidence } } : {}),
      ...(kubernetes ? { kubernetes } : {}),
    };
    return { kind: 'verified', round };
  };

  // The OPA gate: the activity answers "unavailable" itself when OPA is down or slow; an activity
  // that could not run at all (lost worker, deadline) is unavailable too, so the gate's error
  // rule decides (src/policy/opa.ts policyVerdict).
  const askPolicy = async (c: Extract<IncidentCommand, { kind: 'askPolicy' }>): Promise<UntimedEvent> => {
    const timeoutMs = toMs(c.gate.timeout);
    try {
      const result = await proxyActivities<Activities>(policyProfile(timeoutMs)).opaDecide({ gate: c.gate, input: c.input, timeoutMs });
      return { kind: 'policyDecided', result };
    } catch (err) {
      if (isCancellation(err)) throw err;
      return { kind: 'policyDecided', result: { ok: false, error: { kind: 'unavailable', message: `the policy activity failed: ${failureText(err)}` }, backend: 'none', durationMs: 0 } };
    }
  };

  // Evidence never fails the incident: a collection that could not run is a pack with every part
  // missing and the reason.
  const evidence = async (c: Extract<IncidentCommand, { kind: 'collectEvidence' }>): Promise<UntimedEvent> => {
    const req = requestFor(env, c, o.state().verify?.lastEvidence);
    try {
      return { kind: 'evidence', pack: await proxyActivities<Activities>(evidenceProfile(req.timeoutMs)).collectEvidence(req) };
    } catch (err) {
      if (isCancellation(err)) throw err;
      return { kind: 'evidence', pack: unavailablePack(c, `evidence could not be collected: ${failureText(err)}`) };
    }
  };

  // A webhook rung: one signed-if-configured HTTP call, retried; a failure is noted, not fatal.
  const notify = async (rung: number, idempotencyKey: string): Promise<UntimedEvent> => {
    const r = pb.escalation[rung] as Extract<EscalationRung, { kind: 'webhook' }>;
    const rendered = renderHttpRequest(r.request, env.ctx, `escalation.${rung}.request`);
    if (!rendered.ok) return { kind: 'notified', rung, ok: false, summary: `refused, nothing was sent: ${rendered.refusal.message}` };
    try {
      const res = await proxyActivities<Activities>(actionProfile({ timeout: '10s', retries: 5 })).httpAction({ request: rendered.value, idempotencyKey, dryRun: false, timeoutMs: 10_000 });
      return { kind: 'notified', rung, ok: true, summary: res.summary };
    } catch (err) {
      if (isCancellation(err)) throw err;
      return { kind: 'notified', rung, ok: false, summary: `${rendered.value.url} failed: ${failureText(err)}` };
    }
  };

  // Silences run one after another (an expiry must follow the create it expires), beside the
  // incident: their answers are events, a failure is noted and never stops the incident.
  let silences: Promise<void> = Promise.resolve();
  const am = proxyActivities<Activities>(alertmanagerProfile);
  const similarStore = proxyActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 3, initialInterval: '1s' } });
  const silence = (c: Extract<IncidentCommand, { kind: 'silence' | 'unsilence' }>): void => {
    calls += 1;
    const call = async (): Promise<UntimedEvent> => {
      try {
        if (c.kind === 'silence') {
          const r = await am.ensureSilence({ incidentId: env.incidentId, purpose: c.purpose, matchers: c.matchers, endsAt: c.endsAt, createdBy: c.createdBy, comment: c.comment });
          return { kind: 'silenced', purpose: c.purpose, ok: true, id: r.id, endsAt: r.endsAt };
        }
        const r = await am.expireSilences({ incidentId: env.incidentId, purpose: c.purpose });
        return { kind: 'unsilenced', purpose: c.purpose, ok: true, expired: r.expired };
      } catch (err) {
        if (isCancellation(err)) throw err;
        return c.kind === 'silence'
          ? { kind: 'silenced', purpose: c.purpose, ok: false, error: failureText(err) }
          : { kind: 'unsilenced', purpose: c.purpose, ok: false, expired: [], error: failureText(err) };
      }
    };
    silences = silences
      .then(() => CancellationScope.nonCancellable(call))
      .then(o.dispatch)
      .finally(() => void (calls -= 1));
  };

  const release = (cooldownMs?: number, key = `${env.incidentId}:release:final`): Promise<void> =>
    CancellationScope.nonCancellable(() =>
      governor.governorRelease({ target: env.target, workflowId: o.workflowId, key, ...(cooldownMs !== undefined ? { cooldown: { incidentId: env.incidentId, ms: cooldownMs } } : {}) }),
    );

  return {
    run(c) {
      switch (c.kind) {
        case 'askGovernor':
          return gov(async () => o.dispatch({ kind: 'admitted', result: await governor.governorAdmit({ ...c.admit, workflowId: o.workflowId, key: c.key }) }));
        case 'endAction':
          return gov(() => governor.governorEndAction({ target: env.target, workflowId: o.workflowId, key: c.key }));
        case 'recordRun':
          // Learning (auto-demotion): a lost report must not stop the incident.
          return gov(() =>
            governor
              .governorRecordStepRun({ playbook: pb.name, step: c.step, stepName: c.stepName, ok: c.ok, incidentId: env.incidentId, demoteAfter: pb.limits.demoteAfter, key: c.key })
              .then(
                () => undefined,
                (err: unknown) => void log.warn(`recording the step run failed: ${failureText(err)}`, { incidentId: env.incidentId }),
              ),
          );
        case 'release':
          return gov(() => release(c.cooldownMs, c.key));
        case 'endUndos':
          // Awaited with the governor calls before the run ends; an undo already gone is fine.
          return gov(async () => {
            for (const id of c.workflowIds) {
              await getExternalWorkflowHandle(id)
                .signal(incidentEndedSignal, { resolved: c.resolved })
                .catch((err: unknown) => void log.warn(`undo ${id} not told of the end: ${failureText(err)}`, { incidentId: env.incidentId }));
            }
          });
        case 'runAction':
          return async(async () => ({ kind: 'actionResult', outcome: await act(c) }));
        case 'preview':
          return async(async () => ({ kind: 'previewed', outcome: await act({ ...c, dryRun: true }) }));
        case 'verify':
          return async(() => probe(c.step));
        case 'askPolicy':
          return async(() => askPolicy(c));
        case 'escalateRung':
          return async(() => notify(c.rung, c.idempotencyKey));
        case 'collectEvidence':
          return async(() => evidence(c));
        case 'page':
        case 'resolvePage':
          return o.pager.send(c);
        case 'silence':
        case 'unsilence':
          return silence(c);
        case 'findSimilar':
          return async(async () => {
            try {
              return { kind: 'similarFound', similar: await similarStore.similarIncidents(c.query) };
            } catch (err) {
              if (isCancellation(err)) throw err;
              log.warn(`similar incidents lookup failed: ${failureText(err)}`, { incidentId: env.incidentId });
              return { kind: 'similarFound', similar: [], error: failureText(err) };
            }
          });
        case 'startTimer': {
          const scope = new CancellationScope();
          timers.set(c.id, scope);
          void scope.run(() => sleep(c.ms)).then(
            () => {
              timers.delete(c.id);
              o.dispatch({ kind: 'timer', id: c.id });
            },
            (err: unknown) => {
              timers.delete(c.id);
              if (!isCancellation(err)) throw err;
            },
          );
          return;
        }
        case 'cancelTimer':
          return timers.get(c.id)?.cancel();
        case 'setStatus':
          return upsertSearchAttributes([{ key: SearchAttributes.status, value: c.status }]);
        case 'publish':
          for (const e of c.entries) log.info(e.message, { incidentId: env.incidentId, kind: e.kind });
          return o.outbox.kick();
        case 'requestApproval':
        case 'answer':
        case 'refuse':
          return; // the approval message is the timeline entry; answers go back to the Update
      }
    },
    idle: () => calls === 0 && o.pager.idle(),
    governorSettled: async () => {
      for (let seen: Promise<void> | undefined; seen !== chain; ) await (seen = chain);
    },
    release,
  };
}
