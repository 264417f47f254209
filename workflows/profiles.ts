// Named timeout and retry profiles for the incident workflow's activities, in one place.
import { proxyLocalActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import type { Step } from '../src/playbooks/schema.js';
import { toMs } from '../src/playbooks/duration.js';

// Named timeout profiles (see DESIGN.md): governor calls are local activities for latency.
export const governor = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});
export const probeProfile = (timeoutMs: number): ActivityOptions => ({
  startToCloseTimeout: timeoutMs + 2_000,
  retry: { maximumAttempts: 2, initialInterval: '500ms' },
});
export const actionProfile = (step: Pick<Step, 'timeout' | 'retries'>): ActivityOptions => ({
  startToCloseTimeout: toMs(step.timeout), // ms types (@types/ms) no longer accept a plain string
  retry: {
    maximumAttempts: step.retries + 1,
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: ['MissingSecret'],
  },
});

/** Flag changes: one quick API call or two. An outage or 5xx is retried; a refused token, an
 * unknown flag or another 4xx is final. */
export const flagProfile = (step: Pick<Step, 'timeout' | 'retries'>): ActivityOptions => ({
  startToCloseTimeout: toMs(step.timeout) + 2_000, // the activity aborts its calls at step.timeout itself
  retry: {
    maximumAttempts: step.retries + 1,
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: ['MissingSecret', 'FlagUnauthorized', 'FlagNotFound', 'FlagRejected', 'FlagNotApplied'],
  },
});

/** Evidence (read-only): every read inside has its own deadline and the activity never fails on
 * a part, so one retry covers a worker lost midway; after that the pack says it is missing. */
export const evidenceProfile = (timeoutMs: number): ActivityOptions => ({
  startToCloseTimeout: timeoutMs + 5_000,
  retry: { maximumAttempts: 2, initialInterval: '1s' },
});

/** Publishing to sinks (Slack, store, audit) runs beside the incident: a round of retries here
 * (about a minute), then the outbox (workflows/outbox.ts) pauses durably and tries again. */
export const publishProfile: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
};

/** PagerDuty: a 429 or an outage is retried with backoff (in the background) until it lands;
 * a rejected event (other 4xx) or a missing routing key is permanent. */
export const pagerdutyProfile: ActivityOptions = {
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '24h',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    nonRetryableErrorTypes: ['MissingSecret', 'PagerDutyRejected'],
  },
};

/** A long run that heartbeats: the step's timeout plus `slackMs` bounds one attempt, the step's
 * retries its attempts (backing off 2× up to 30 s); `final` error types are not retried. */
const heartbeating = (
  step: Pick<Step, 'timeout' | 'retries'>,
  o: { slackMs: number; heartbeatTimeout: Duration; initialInterval: Duration; final: string[] },
): ActivityOptions => ({
  startToCloseTimeout: toMs(step.timeout) + o.slackMs,
  heartbeatTimeout: o.heartbeatTimeout,
  retry: { maximumAttempts: step.retries + 1, initialInterval: o.initialInterval, backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: o.final },
});

/** SSM actions poll inside the activity: heartbeats show it alive; the step's timeout bounds the
 * whole run (plus slack for the final calls). A rejected request or a failed command is final. */
export const ssmProfile = (step: Pick<Step, 'timeout' | 'retries'>): ActivityOptions =>
  heartbeating(step, { slackMs: 30_000, heartbeatTimeout: '45s', initialInterval: '2s', final: ['SsmRejected', 'SsmCommandFailed', 'SsmAutomationFailed', 'SsmTimeout'] });

/** Ansible runs: the activity heartbeats every few seconds while ansible-playbook runs, so a dead
 * worker is noticed within the heartbeat timeout and the run retried (the playbook's markers make
 * the retry report "already applied"). The step's timeout bounds one run; host failures,
 * unreachable hosts and refusals are final (the step's attempts decide what comes next). */
export const ansibleProfile = (step: Pick<Step, 'timeout' | 'retries'>): ActivityOptions =>
  // slack: the inventory lookup and waiting for an orphaned earlier run
  heartbeating(step, { slackMs: 90_000, heartbeatTimeout: '20s', initialInterval: '1s', final: ['AnsibleRefused', 'AnsibleFailed', 'AnsibleTimeout', 'AnsibleNotConfigured'] });

/** Kubernetes actions: each API request has its own deadline inside the activity; the step's
 * timeout is also the drain's deadline for evictions a PodDisruptionBudget refuses, so the
 * activity gets slack beyond it (a retried drain starts a new deadline). Rejections (4xx), bounds and drain timeouts are final. */
export const kubernetesProfile = (step: Pick<Step, 'timeout' | 'retries'>, heartbeats = false): ActivityOptions => ({
  startToCloseTimeout: toMs(step.timeout) + 30_000,
  // Only a drain heartbeats (between evictions): a dead worker is noticed within a minute.
  ...(heartbeats ? { heartbeatTimeout: '1m' } : {}),
  retry: {
    maximumAttempts: step.retries + 1,
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: [
      'KubernetesRejected',
      'KubernetesBadInput',
      'KubernetesScaleOutOfBounds',
      'KubernetesNoRevision',
      'KubernetesDrainRefused',
      'KubernetesDrainTimeout',
      'KubernetesNotConfigured',
    ],
  },
});

/** The OPA gate: the activity aborts OPA's call at the gate's deadline itself and answers with
 * "unavailable" instead of failing; a second attempt only covers a worker lost mid-call. The
 * whole decision is bounded by scheduleToClose. */
export const policyProfile = (timeoutMs: number): ActivityOptions => ({
  startToCloseTimeout: timeoutMs + 2_000,
  scheduleToCloseTimeout: 2 * timeoutMs + 5_000,
  retry: { maximumAttempts: 2, initialInterval: '200ms' },
});
/** Alertmanager silences: quick API calls, retried for about a minute; a refused silence or a
 * missing Alertmanager URL is final. A silence never holds up the incident (effects.ts). */
export const alertmanagerProfile: ActivityOptions = {
  startToCloseTimeout: '15s',
  scheduleToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', nonRetryableErrorTypes: ['NoAlertmanager', 'AlertmanagerRejected', 'SilenceRefused'] },
};
