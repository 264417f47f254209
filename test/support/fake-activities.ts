// Plain functions in place of the activities that reach outside medic (HTTP targets and probes,
// Prometheus, PagerDuty, SSM, Unleash, Kubernetes, the sinks), for workflow tests on the
// time-skipping server, as the Temporal samples test workflows: every call is recorded, and each
// test scripts what the outside world answers. The activities that stay inside medic run for
// real: the playbook registry, the identity check and the governor (a workflow on the same server).
// An activity a test did not script fails loudly (non-retryable), so nothing passes by accident.
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities/index.js';
import type { HttpActionInput, HttpActionResult, HttpProbeInput, HttpProbeResult } from '../../activities/http.js';
import type { PagerDutyResolveInput, PagerDutySendResult, PagerDutyTriggerInput } from '../../activities/pagerduty.js';
import type { PublishInput, PublishResult, TimelineEntry } from '../../workflows/contracts.js';

/** The activities that talk to systems outside medic: what a workflow test replaces. */
export const OUTSIDE = [
  'httpAction',
  'httpProbe',
  'promqlProbe',
  'publishIncident',
  'pagerdutyTrigger',
  'pagerdutyResolve',
  'ssmRunCommand',
  'ssmAutomation',
  'setFeatureFlag',
  'k8sRestart',
  'k8sScale',
  'k8sRollback',
  'k8sDeletePod',
  'k8sCordon',
  'k8sUncordon',
  'k8sDrain',
  'k8sProbe',
] as const satisfies readonly (keyof Activities)[];
type Outside = (typeof OUTSIDE)[number];

export interface Call {
  name: Outside;
  input: unknown;
}

export interface FakeWorld {
  /** Every call to an outside activity, in order (retried attempts included). */
  readonly calls: Call[];
  /** Timeline entries the sinks were handed, in order, once per seq. */
  readonly published: TimelineEntry[];
  /** The inputs of one activity's calls. */
  inputs<N extends Outside>(name: N): Parameters<Activities[N]>[0][];
  /** What the remediation target answers to an action (awaited: a test may hold it): default 200. */
  action: (input: HttpActionInput) => number | Promise<number>;
  /** Whether the service is healthy at a verification probe (1-based count of probes so far). */
  healthy: (probe: number, input: HttpProbeInput) => boolean;
  /** The activities to register: the plain functions above, merged over the real inside ones. */
  readonly activities: Partial<Activities>;
}

/** An HTTP action's answer as the real activity gives it: a result, or its UnexpectedStatus failure. */
function httpAnswer(input: HttpActionInput, status: number): HttpActionResult {
  const what = `${input.request.method} ${input.request.url}`;
  if (input.dryRun) return { dryRun: true, summary: `dry run: would ${what}`, durationMs: 0 };
  if (!input.request.expectStatus.includes(status)) {
    throw ApplicationFailure.create({
      type: 'UnexpectedStatus',
      nonRetryable: status < 500,
      message: `${what} answered ${status}, expected ${input.request.expectStatus.join('/')}`,
      details: [{ status, bodyExcerpt: '' }],
    });
  }
  return { dryRun: false, summary: `${what} → ${status}`, status, durationMs: 1, bodyExcerpt: '{"restarted":true}' };
}

export function fakeWorld(): FakeWorld {
  const calls: Call[] = [];
  const published: TimelineEntry[] = [];
  const seen = new Set<string>();
  let probes = 0;
  const world: FakeWorld = {
    calls,
    published,
    inputs: <N extends Outside>(name: N) =>
      calls.filter((c) => c.name === name).map((c) => c.input as Parameters<Activities[N]>[0]),
    action: () => 200,
    healthy: () => true,
    activities: {},
  };
  const scripted: Partial<Record<Outside, (input: never) => Promise<unknown>>> = {
    httpAction: async (input: HttpActionInput) => httpAnswer(input, input.dryRun ? 200 : await world.action(input)),
    httpProbe: async (input: HttpProbeInput): Promise<HttpProbeResult> => {
      const ok = world.healthy(++probes, input);
      return { ok, status: ok ? 200 : 503, latencyMs: 1, evidence: `${input.url} answered ${ok ? 200 : 503}` };
    },
    publishIncident: async (input: PublishInput): Promise<PublishResult> => {
      for (const e of input.entries) {
        const key = `${input.incident.incidentId}#${e.seq}`;
        if (!seen.has(key)) published.push(e);
        seen.add(key);
      }
      return { refs: input.refs };
    },
    pagerdutyTrigger: async ({ page }: PagerDutyTriggerInput): Promise<PagerDutySendResult> => ({
      action: 'trigger',
      status: 202,
      dedupKey: page.dedupKey,
      message: 'Event processed',
    }),
    pagerdutyResolve: async ({ dedupKey }: PagerDutyResolveInput): Promise<PagerDutySendResult> => ({
      action: 'resolve',
      status: 202,
      dedupKey,
      message: 'Event processed',
    }),
  };
  const activities: Record<string, (input: never) => Promise<unknown>> = {};
  for (const name of OUTSIDE) {
    const fn = scripted[name];
    activities[name] = async (input: never) => {
      calls.push({ name, input });
      if (!fn) throw ApplicationFailure.nonRetryable(`fake ${name}: not scripted by this test`, 'NotScripted');
      return fn(input);
    };
  }
  Object.assign(world.activities, activities);
  return world;
}
