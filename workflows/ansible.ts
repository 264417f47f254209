// The ansible step in the workflow: its activity input rendered from the playbook (the limit and
// extra-vars checked first: a refused value fails the step before anything runs), its one-line
// description, and the call. Deterministic: no I/O here, the activity runs ansible-playbook.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { ansibleInput, ansibleLimit, ansibleRefusal, type AnsibleAllow } from '../src/playbooks/ansible.js';
import type { Step } from '../src/playbooks/schema.js';
import type { TemplateContext } from '../src/playbooks/template.js';
import type { TargetRefusal } from '../src/policy/targets.js';
import { ansibleProfile } from './profiles.js';
import type { ActionOutcome } from './actions.js';

type AnsibleStep = Extract<Step, { action: 'ansible' }>;

/** Failure type of a refused limit or extra-var: nothing ran. */
export const ANSIBLE_REFUSED = 'AnsibleRefused';

export const ansibleStepRefusal = (step: Step, ctx: TemplateContext, allow: AnsibleAllow | undefined): TargetRefusal | undefined =>
  step.action === 'ansible' ? ansibleRefusal(step.params, ctx, allow) : undefined;

export const describeAnsible = (step: AnsibleStep, ctx: TemplateContext): string => `Ansible playbook ${step.params.playbook} on ${ansibleLimit(step.params, ctx).join(', ')}`;

export async function runAnsible(step: AnsibleStep, ctx: TemplateContext, o: { idempotencyKey: string; dryRun: boolean }, allow: AnsibleAllow | undefined, blastRadius: number): Promise<ActionOutcome> {
  const refused = ansibleRefusal(step.params, ctx, allow);
  if (refused) {
    throw ApplicationFailure.create({ type: ANSIBLE_REFUSED, nonRetryable: true, message: `refused, nothing ran: ${refused.message}`, details: [{ refusal: refused }] });
  }
  const r = await proxyActivities<Activities>(ansibleProfile(step)).ansiblePlaybook(ansibleInput(step.params, step.timeout, ctx, o, allow, blastRadius));
  return { summary: r.summary, durationMs: r.durationMs, data: { playbook: r.report.playbook, check: r.report.check }, hosts: r.report };
}
