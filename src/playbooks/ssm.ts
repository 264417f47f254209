// Playbook schema of the SSM step actions (ssm-command, ssm-automation). Alert data never becomes
// script text: a {{template}} in a script parameter (`commands`, …) or in any parameter of AWS's
// shell documents fails validation; values go to a document parameter that declares an
// allowedPattern (deploy/aws/ssm-documents/), which the activity checks again after rendering.
import { z } from 'zod';
import type { SsmAllow } from './allow-ssm.js';
import { INSTANCE_PARAMETER, isTemplated } from './ssm-guard.js';

/** Parameters that hold script text (or choose the script) in AWS's and common documents. */
const SCRIPT_PARAMETERS = new Set(['commands', 'commandline', 'script', 'scriptbody', 'inlinescript', 'playbook', 'extravars', 'sourceinfo', 'documentparameters']);
/** AWS documents that run their parameters as a script: no template in any of their parameters. */
const SHELL_DOCUMENTS = new Set(['AWS-RunShellScript', 'AWS-RunPowerShellScript', 'AWS-RunRemoteScript', 'AWS-ApplyAnsiblePlaybooks', 'AWS-RunAnsiblePlaybook', 'AWS-RunSaltState', 'AWS-RunDocument']);

const NEVER_SCRIPT =
  'a template here lets alert data write the script that runs on the instance; pass the value as a parameter of your own SSM document that declares an allowedPattern (see deploy/aws/ssm-documents/Medic-CleanDisk.yaml)';

const DocumentName = z
  .string()
  .regex(/^([a-zA-Z0-9_.-]{3,128}|arn:[^\s]+)$/, 'must be an SSM document name (3-128 of letters, digits, _ . -) or an ARN')
  .describe('SSM document, e.g. Medic-CleanDisk (deploy/aws/ssm-documents), or the name/ARN of your own');
const SsmParameters = z
  .record(z.string(), z.union([z.string(), z.array(z.string())]))
  .default({})
  .describe(
    'Document parameters (a value may be a list). Values may use templates such as {{labels.mountpoint}} only in parameters the document declares with an allowedPattern (checked again after rendering); never in script text (`commands`, …) nor in any parameter of AWS-RunShellScript / AWS-RunPowerShellScript',
  );
const NoTemplate = (what: string) =>
  z
    .string()
    .min(1)
    .refine((v) => !isTemplated(v), `${what} may not be a template (alert data may not choose it)`);

/** Issues for templates in script text: a shell document's parameters, or a script parameter. */
function refuseScriptTemplates(p: { document: string; parameters: Record<string, string | string[]> }, ctx: z.RefinementCtx): void {
  for (const [name, value] of Object.entries(p.parameters)) {
    if (!isTemplated(value)) continue;
    const why = SHELL_DOCUMENTS.has(p.document)
      ? `${p.document} runs its parameters as a shell script`
      : SCRIPT_PARAMETERS.has(name.toLowerCase())
        ? `\`${name}\` is script text`
        : undefined;
    if (why) ctx.addIssue({ code: 'custom', path: ['parameters', name], message: `parameter \`${name}\`: ${why}: ${NEVER_SCRIPT}` });
  }
}

const Target = z.strictObject({
  key: NoTemplate('a target key').describe('tag:<key> or InstanceIds (a templated value is checked against allow.ssm)'),
  values: z.array(z.string().min(1)).min(1),
});

export const SsmCommandParamsSchema = z
  .strictObject({
    document: DocumentName,
    documentVersion: NoTemplate('documentVersion').optional().describe('Default: the document\'s default version ($DEFAULT)'),
    parameters: SsmParameters,
    instanceIds: z.array(z.string().min(1)).default([]).describe('Managed instance ids (templates allowed, then allow.ssm is required)'),
    targets: z.array(Target).default([]).describe('Tag targets, instead of or beside instanceIds (templated values need allow.ssm.instanceTags)'),
  })
  .refine((p) => p.instanceIds.length > 0 || p.targets.length > 0, { message: 'ssm-command needs instanceIds or targets', path: ['instanceIds'] })
  .superRefine(refuseScriptTemplates);
export type SsmCommandParams = z.infer<typeof SsmCommandParamsSchema>;

export const SsmAutomationParamsSchema = z
  .strictObject({
    document: DocumentName,
    documentVersion: NoTemplate('documentVersion').optional(),
    parameters: SsmParameters,
  })
  .superRefine(refuseScriptTemplates);
export type SsmAutomationParams = z.infer<typeof SsmAutomationParamsSchema>;

type SsmStepLike =
  | { action: 'ssm-command'; params: SsmCommandParams }
  | { action: 'ssm-automation'; params: SsmAutomationParams }
  | { action: string; params: unknown };

/** Playbook-level rule: a step whose instance (id, target or InstanceId parameter) comes from a
 * template needs allow.ssm to say which instances alert data may pick. */
export function requireSsmAllow(pb: { allow?: { ssm?: SsmAllow | undefined } | undefined; steps: SsmStepLike[] }, ctx: z.RefinementCtx): void {
  const allow = pb.allow?.ssm;
  pb.steps.forEach((step, i) => {
    if (step.action !== 'ssm-command' && step.action !== 'ssm-automation') return;
    const p = step.params as Partial<SsmCommandParams>;
    const at = (...path: (string | number)[]) => ['steps', i, 'params', ...path];
    const needIds = (path: (string | number)[], what: string) => {
      if (!allow?.instanceIds && !allow?.instanceTags) {
        ctx.addIssue({ code: 'custom', path: at(...path), message: `${what} comes from a template: add allow.ssm.instanceTags and/or allow.ssm.instanceIds to say which instances alert data may pick` });
      }
    };
    (p.instanceIds ?? []).forEach((id, j) => isTemplated(id) && needIds(['instanceIds', j], 'the instance id'));
    (p.targets ?? []).forEach((t, j) => {
      if (!isTemplated(t.values)) return;
      if (t.key === 'InstanceIds') needIds(['targets', j, 'values'], 'the InstanceIds target');
      else if (!t.key.startsWith('tag:')) ctx.addIssue({ code: 'custom', path: at('targets', j, 'key'), message: `a templated target must use tag:<key> or InstanceIds (${t.key} cannot be checked against allow.ssm)` });
      else if (!allow?.instanceTags) ctx.addIssue({ code: 'custom', path: at('targets', j, 'values'), message: `the ${t.key} target comes from a template: add allow.ssm.instanceTags (which tag values alert data may pick)` });
    });
    for (const [name, value] of Object.entries(p.parameters ?? {})) {
      if (INSTANCE_PARAMETER.test(name) && isTemplated(value)) needIds(['parameters', name], `parameter \`${name}\``);
    }
  });
}
