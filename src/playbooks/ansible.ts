// The `ansible` step action's schema and its pure checks. Alert data is hostile
// (docs/architecture.md): it may pick hosts only by name, and only hosts that allow.ansible.hosts
// admits; it never chooses the playbook file (a relative name inside the configured
// ansible.playbookDir), and extra-var values it fills are plain words. The workflow runs these
// checks before it schedules the activity (a refusal fails the step, nothing runs), `medic
// simulate` before its dry run, and activities/ansible.ts again after resolving groups to hosts.
import { z } from 'zod';
import { matchesPattern, show, type TargetRefusal } from '../policy/targets.js';
import type { AnsibleRunInput } from '../../activities/ansible.js';
import { toMs } from './duration.js';
import { render, type TemplateContext } from './template.js';

/** One inventory host or group name: no commas, patterns (`*`, `~`, `!`, `&`, `:`), @files or spaces. */
export const ANSIBLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const NAME_RULE = 'is not one inventory host or group name (letters, digits, _ . -, starting with a letter or digit; no commas, patterns, @files or spaces)';
/** A playbook file relative to ansible.playbookDir: no absolute path, no `..` or `.` segment. */
export const PLAYBOOK_FILE = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[A-Za-z0-9_][A-Za-z0-9_./-]{0,254}\.ya?ml$/;
export const EXTRA_VAR_NAME = /^[a-z_][a-z0-9_]{0,63}$/;
/** An extra-var value rendered from alert data: one plain word (no spaces, quotes, `{{`, `@`, `-` first). */
export const EXTRA_VAR_VALUE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const VALUE_RULE = 'is not a plain value (letters, digits, _ . : -, starting with a letter or digit, at most 128 characters)';
/** Extra-vars medic sets itself (the idempotency key): a playbook may not name them. */
export const MEDIC_VAR_PREFIX = 'medic_';

const isTemplate = (v: string): boolean => v.includes('{{');

/** A host pattern of allow.ansible.hosts: an exact name, a glob (`*`, `?`) or `~regex`. */
const HostPattern = z
  .string()
  .min(1)
  .superRefine((p, ctx) => {
    if (p.startsWith('~')) {
      try {
        new RegExp(`^(?:${p.slice(1)})$`);
      } catch {
        ctx.addIssue({ code: 'custom', message: `invalid regular expression ${p}` });
      }
    } else if (!/^[A-Za-z0-9_.*?-]+$/.test(p)) ctx.addIssue({ code: 'custom', message: `${p} must be a host name, a glob of letters, digits, _ . - * ? or a ~regex` });
  });

export const AnsibleAllowSchema = z
  .strictObject({
    hosts: z
      .array(HostPattern)
      .min(1)
      .describe('Inventory hosts an ansible step may run on: a name, a glob (web-*) or ~regex. Every host the limit resolves to (groups expanded by the inventory) must match one, or nothing runs'),
  })
  .describe('Ansible hosts this playbook may act on; required by every ansible step');
export type AnsibleAllow = z.infer<typeof AnsibleAllowSchema>;

export const AnsibleParamsSchema = z.strictObject({
  playbook: z
    .string()
    .regex(PLAYBOOK_FILE, 'must be a .yml/.yaml file name relative to the configured ansible.playbookDir (no absolute path, no . or .. segment)')
    .refine((v) => !isTemplate(v), 'may not be a template (alert data may not choose the playbook)')
    .describe('Playbook file inside the configured ansible.playbookDir (config, never from an alert), e.g. restart-service.yml'),
  limit: z
    .array(z.string().min(1))
    .min(1)
    .describe(
      'Inventory hosts or groups to run on (--limit), one name per entry, e.g. ["{{labels.host}}"]. A templated entry must render to one host name; every resolved host must match allow.ansible.hosts and their number counts against limits.blastRadius',
    ),
  extraVars: z
    .record(z.string(), z.string())
    .superRefine((vars, ctx) => {
      // Keys checked here (not by the record's key schema, whose error would not say the rule).
      for (const k of Object.keys(vars)) {
        if (!EXTRA_VAR_NAME.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: `${JSON.stringify(k)} must be a variable name (lowercase letters, digits, _; at most 64)` });
        else if (k.startsWith(MEDIC_VAR_PREFIX)) ctx.addIssue({ code: 'custom', path: [k], message: `${MEDIC_VAR_PREFIX}* variables are set by medic` });
      }
    })
    .default({})
    .describe(
      'Extra variables (passed in a vars file, each marked !unsafe so Ansible never templates it). Values may use {{labels.x}}; a rendered value must be a plain word. medic adds medic_idempotency_key, which the playbook writes into a marker on each host (ansible/medic-marker-*.yml)',
    ),
});
export type AnsibleParams = z.infer<typeof AnsibleParamsSchema>;

type AnsibleStepLike = { action: string; params: unknown };

/** Playbook-level rule: every ansible step needs allow.ansible.hosts (only the allow-list chooses hosts). */
export function requireAnsibleAllow(pb: { allow?: { ansible?: AnsibleAllow | undefined } | undefined; steps: AnsibleStepLike[] }, ctx: z.RefinementCtx): void {
  if (pb.allow?.ansible) return;
  pb.steps.forEach((step, i) => {
    if (step.action !== 'ansible') return;
    ctx.addIssue({ code: 'custom', path: ['steps', i, 'params', 'limit'], message: 'an ansible step needs allow.ansible.hosts: the hosts it may run on (alert data can only pick among them)' });
  });
}

const refusal = (path: string, value: string, rule: string): TargetRefusal => ({
  path,
  value: value.length > 64 ? `${value.slice(0, 64)}…` : value,
  rule,
  message: `${path} value ${show(value)} ${rule}`,
});

/** The allow-list pattern a host name matches, if any. */
export const allowedBy = (allow: AnsibleAllow | undefined, host: string): string | undefined => allow?.hosts.find((p) => matchesPattern(p, host));

/** The rendered --limit entries (one name each). */
export const ansibleLimit = (p: AnsibleParams, ctx: TemplateContext): string[] => p.limit.map((l) => render(l, ctx));

/** The rendered extra-vars (values still to be checked by ansibleRefusal). */
export const ansibleExtraVars = (p: AnsibleParams, ctx: TemplateContext): Record<string, string> =>
  Object.fromEntries(Object.entries(p.extraVars).map(([k, v]) => [k, render(v, ctx)]));

/** Why the step's rendered limit or extra-vars may not run, or undefined. A templated limit entry
 * must be one host name that allow.ansible.hosts admits; a literal one may name a group, which the
 * activity expands and checks host by host. */
export function ansibleRefusal(p: AnsibleParams, ctx: TemplateContext, allow: AnsibleAllow | undefined): TargetRefusal | undefined {
  for (const [i, raw] of p.limit.entries()) {
    const value = render(raw, ctx);
    const path = `params.limit.${i}`;
    if (!ANSIBLE_NAME.test(value)) return refusal(path, value, NAME_RULE);
    if (!isTemplate(raw)) continue;
    if (!allow) return refusal(path, value, `comes from a template (${raw}) and the playbook lists no allow.ansible.hosts`);
    if (!allowedBy(allow, value)) return refusal(path, value, `does not match allow.ansible.hosts [${allow.hosts.join(', ')}]`);
  }
  for (const [name, raw] of Object.entries(p.extraVars)) {
    if (!isTemplate(raw)) continue;
    const value = render(raw, ctx);
    if (!EXTRA_VAR_VALUE.test(value)) return refusal(`params.extraVars.${name}`, value, VALUE_RULE);
  }
  return undefined;
}

/** Why resolved hosts may not run (activity side, after the inventory expanded groups), or undefined. */
export function resolvedHostsProblem(hosts: string[], allow: AnsibleAllow | undefined, blastRadius: number): string | undefined {
  const outside = hosts.filter((h) => !allowedBy(allow, h));
  if (outside.length > 0) return `host(s) ${outside.join(', ')} not in allow.ansible.hosts [${allow?.hosts.join(', ') ?? ''}]`;
  if (hosts.length > blastRadius) return `the limit resolves to ${hosts.length} hosts (${hosts.join(', ')}), above the blast radius of ${blastRadius}`;
  return undefined;
}

/** The activity's input, rendered (the workflow runs ansibleRefusal first; the activity re-checks). */
export function ansibleInput(
  p: AnsibleParams,
  timeout: string,
  ctx: TemplateContext,
  o: { idempotencyKey: string; dryRun: boolean },
  allow: AnsibleAllow | undefined,
  blastRadius: number,
): AnsibleRunInput {
  return { playbook: p.playbook, limit: ansibleLimit(p, ctx), extraVars: ansibleExtraVars(p, ctx), ...(allow ? { allow } : {}), blastRadius, ...o, timeoutMs: toMs(timeout) };
}
