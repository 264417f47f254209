// `medic simulate`'s Ansible dry runs: the worker's own activity with dryRun: true, i.e.
// ansible-playbook --check --diff against the hosts the step would run on, so the prediction
// lists per host what would change. Configured like the worker (the --config file's `ansible`
// section, overlaid by MEDIC_ANSIBLE_*); without one, simulate only says what it would run.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { createAnsibleActivities, type AnsibleDeps } from '../../activities/ansible.js';
import { ConfigSchema } from '../config.js';
import { ansibleInput, ansibleRefusal, type AnsibleAllow } from '../playbooks/ansible.js';
import type { Step } from '../playbooks/schema.js';
import type { TemplateContext } from '../playbooks/template.js';
import type { HostReport } from '../../workflows/contracts-timeline.js';

type Env = Record<string, string | undefined>;

/** The `ansible` section for simulate, or undefined when neither the file nor env has one. */
export async function simulateAnsibleDeps(configPath: string | undefined, env: Env = process.env): Promise<AnsibleDeps | undefined> {
  let section: Record<string, unknown> | undefined;
  if (configPath) section = ((parseYaml(await readFile(configPath, 'utf8')) as { ansible?: Record<string, unknown> } | null)?.ansible) ?? undefined;
  const fromEnv = Object.fromEntries(
    ([['playbookDir', env.MEDIC_ANSIBLE_PLAYBOOK_DIR], ['inventory', env.MEDIC_ANSIBLE_INVENTORY], ['ansiblePlaybook', env.MEDIC_ANSIBLE_PLAYBOOK_BIN]] as const).filter(([, v]) => v !== undefined),
  );
  if (!section && Object.keys(fromEnv).length === 0) return undefined;
  const parsed = ConfigSchema.shape.ansible.safeParse({ ...section, ...fromEnv });
  if (!parsed.success) throw new Error(`${configPath ?? 'environment'}: ansible: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export type AnsibleDryRun = (
  step: Extract<Step, { action: 'ansible' }>,
  ctx: TemplateContext,
  idempotencyKey: string,
  allow: AnsibleAllow | undefined,
  blastRadius: number,
) => Promise<{ summary: string; report?: HostReport }>;

/** --check --diff through the activity, with the input the workflow would give it (a refused
 * limit or extra-var is never run). */
export function ansibleDryRun(deps: AnsibleDeps): AnsibleDryRun {
  const acts = createAnsibleActivities(deps);
  return async (step, ctx, idempotencyKey, allow, blastRadius) => {
    const refused = ansibleRefusal(step.params, ctx, allow);
    if (refused) throw new Error(`refused, nothing would run: ${refused.message}`);
    const r = await acts.ansiblePlaybook(ansibleInput(step.params, step.timeout, ctx, { idempotencyKey, dryRun: true }, allow, blastRadius));
    return { summary: r.summary, report: r.report };
  };
}
