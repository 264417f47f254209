// The actuators' own dry runs for `medic simulate`: the activity functions the worker registers,
// called with dryRun: true. An http step whose target supports server-side dry run
// (params.dryRunHeader) really asks the target, which answers without acting; a kubernetes step
// asks the API server (dryRun=All) when a cluster is configured, and a flag step reads the flag's
// state from Unleash, and an ansible step runs ansible-playbook --check --diff when ansible is
// configured; others only report what they would do. Nothing here changes anything.
import { SSMClient } from '@aws-sdk/client-ssm';
import { ApplicationFailure } from '@temporalio/activity';
import { createFlagActivities } from '../../activities/flags.js';
import { createHttpActivities } from '../../activities/http.js';
import type { KubernetesDeps } from '../../activities/kubernetes.js';
import { createSsmActivities } from '../../activities/ssm.js';
import { describeAction, flagActionInput, httpActionInput, ssmAutomationInput, ssmCommandInput, stepRefusal } from '../../workflows/actions.js';
import type { DryRunActuator } from './engine.js';
import { kubernetesDryRun } from './kubernetes.js';
import { ansibleDryRun } from './ansible.js';
import type { AnsibleDeps } from '../../activities/ansible.js';
import { ansibleRefusal } from '../playbooks/ansible.js';

export const NO_KUBERNETES = 'no Kubernetes configured for simulate (--config with a kubernetes section)';

export interface ActuatorDeps {
  fetch?: typeof globalThis.fetch;
  /** Resolves {{secret.NAME}} for targets that need credentials even for a dry run. */
  secret?: (name: string) => string | undefined;
  /** The cluster kubernetes steps are dry-run against (the config's kubernetes section). */
  kubernetes?: KubernetesDeps;
  /** ansible-playbook, playbooks and inventory ansible steps are checked against (--check --diff). */
  ansible?: AnsibleDeps;
}

export const NO_ANSIBLE = 'no ansible configured for simulate (--config with an ansible section, or MEDIC_ANSIBLE_*)';

export function dryRunActuator(deps: ActuatorDeps = {}): DryRunActuator {
  const io = { fetch: deps.fetch ?? globalThis.fetch, secret: deps.secret ?? (() => undefined) };
  const http = createHttpActivities(io);
  const flags = createFlagActivities(io);
  const k8s = deps.kubernetes ? kubernetesDryRun(deps.kubernetes) : undefined;
  const ansible = deps.ansible ? ansibleDryRun(deps.ansible) : undefined;
  // Dry runs of SSM actions return before any AWS call; the client is never used.
  const ssm = createSsmActivities({ ssm: new SSMClient({ region: 'us-east-1' }) });
  return async (step, ctx, idempotencyKey, allow, blastRadius = 1) => {
    const o = { idempotencyKey, dryRun: true };
    // As the workflow does: a value that cannot be rendered safely refuses the step, nothing is asked.
    const refused = stepRefusal(step, ctx);
    if (refused) return { ok: false, summary: `refused, nothing would be sent: ${refused.message}`, error: refused.message };
    try {
      switch (step.action) {
        case 'http': {
          const r = await http.httpAction(httpActionInput(step, ctx, o));
          return { ok: true, summary: r.summary, ...(r.wouldHeal !== undefined ? { wouldHeal: r.wouldHeal } : {}) };
        }
        case 'ssm-command':
          return { ok: true, summary: (await ssm.ssmRunCommand(ssmCommandInput(step, ctx, o))).summary };
        case 'ssm-automation':
          return { ok: true, summary: (await ssm.ssmAutomation(ssmAutomationInput(step, ctx, o))).summary };
        case 'kubernetes': {
          if (!k8s) return { ok: true, summary: `dry run: would ${describeAction(step, ctx)} (${NO_KUBERNETES})` };
          const r = await k8s(step, ctx, idempotencyKey, allow?.kubernetes);
          // The diff is what the API server answered to the dryRun=All request, not a local guess.
          return { ok: true, summary: r.changes.length > 0 ? `${r.summary} (the API server's own dry run)` : r.summary };
        }
        case 'flag':
          return { ok: true, summary: (await flags.setFeatureFlag(flagActionInput(step, ctx, o))).summary };
        case 'ansible': {
          const refusedHost = ansibleRefusal(step.params, ctx, allow?.ansible);
          if (refusedHost) return { ok: false, summary: `refused, nothing would run: ${refusedHost.message}`, error: refusedHost.message };
          if (!ansible) return { ok: true, summary: `dry run: would run ${describeAction(step, ctx)} (${NO_ANSIBLE})` };
          const r = await ansible(step, ctx, idempotencyKey, allow?.ansible, blastRadius);
          return { ok: true, summary: r.summary, ...(r.report ? { hosts: r.report } : {}) };
        }
      }
    } catch (err) {
      const message = (err as Error).message;
      // A credential this machine lacks says nothing about the target: no prediction, not a failure.
      if ((err as { type?: string }).type === 'MissingSecret') {
        return { ok: true, summary: `dry run: would ${describeAction(step, ctx)} (the target's dry run was skipped: ${message})` };
      }
      // Unreachable from here (network error, not an answer): no dry-run output, no prediction.
      if (!(err instanceof ApplicationFailure)) {
        return { ok: true, summary: `dry run: would ${describeAction(step, ctx)} (target not reachable from here for its dry run: ${message})` };
      }
      return { ok: false, summary: `dry run: the target says this would fail: ${message}`, error: message };
    }
  };
}
