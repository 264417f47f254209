// Runbooks: playbooks an operator starts by hand (`/medic run <name> key=value…`) instead of an
// alert. Same steps, gates, approvals and escalation; plus typed parameters, validated by a zod
// schema built from their spec, that the steps use as {{labels.NAME}}.
import { z } from 'zod';
import type { Alert } from '../intake/schemas.js';
import { allowRule, PlaybookObjectSchema, type Playbook } from '../playbooks/schema.js';

export const ParamSpecSchema = z.strictObject({
  type: z.enum(['string', 'number', 'boolean']).default('string'),
  description: z.string().default(''),
  required: z.boolean().default(true),
  pattern: z.string().optional().describe('A regular expression the whole value must match'),
  enum: z.array(z.string().min(1)).min(1).optional(),
  default: z.string().optional(),
});
export type ParamSpec = z.infer<typeof ParamSpecSchema>;

export const RunbookSchema = PlaybookObjectSchema.omit({ match: true })
  .extend({
    runners: z
      .array(z.string().min(1))
      .default([])
      .describe('Who may start this runbook (Slack user ids, operator user names or @groups). Default: nobody (a runbook without runners cannot be started)'),
    params: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,30}$/, 'parameter names are lowercase, digits, _'), ParamSpecSchema).default({}),
  })
  .superRefine(allowRule); // runbook parameters are as hostile as alert labels
export type Runbook = z.infer<typeof RunbookSchema>;
export type RunbookInput = z.input<typeof RunbookSchema>;

export const runbookAlertname = (name: string): string => `Runbook:${name}`;

/** The zod schema a run's parameters must pass; values arrive as strings (Slack, key=value). */
export function paramsSchema(rb: Runbook): z.ZodType<Record<string, string>> {
  const shape: Record<string, z.ZodType<string | undefined>> = {};
  for (const [name, p] of Object.entries(rb.params)) {
    let s: z.ZodType<string> = z.string({ error: 'required' }).trim().min(1, 'required');
    if (p.type === 'number') s = s.refine((v) => Number.isFinite(Number(v)), 'must be a number');
    if (p.type === 'boolean') s = s.refine((v) => v === 'true' || v === 'false', 'must be true or false');
    if (p.enum) s = s.refine((v) => p.enum!.includes(v), `must be one of ${p.enum.join(', ')}`);
    if (p.pattern) {
      const re = new RegExp(`^(?:${p.pattern})$`);
      s = s.refine((v) => re.test(v), `must match ${p.pattern}`);
    }
    shape[name] = p.required && p.default === undefined ? s : s.optional();
  }
  return z
    .strictObject(shape)
    .transform((v) => Object.fromEntries(Object.entries(rb.params).flatMap(([k, p]) => {
      const value = (v as Record<string, string | undefined>)[k] ?? p.default;
      return value === undefined ? [] : [[k, value]];
    })) as Record<string, string>);
}

/** The runbook as the playbook its incident workflow runs (matched by its own alert name). */
export function runbookPlaybook(rb: Runbook): Playbook {
  const { params: _params, runners: _runners, ...rest } = rb;
  return { ...rest, match: { alertname: runbookAlertname(rb.name) } } as Playbook;
}

/** The synthetic alert that starts a run; parameters become labels (for {{labels.NAME}}). */
export function runbookAlert(rb: Runbook, params: Record<string, string>, by: string, now: number): Alert {
  const labels = { service: rb.name, ...params, alertname: runbookAlertname(rb.name), requested_by: by };
  return {
    status: 'firing',
    alertname: labels.alertname,
    severity: 'info',
    labels,
    annotations: { summary: `runbook ${rb.name} started by ${by}` },
    startsAt: new Date(now).toISOString(),
    fingerprint: '',
    source: 'manual',
    receivedAt: now,
  };
}

/** Splits `key=value key2="a b"` into a record; words without '=' are returned apart. */
export function parseKeyValues(text: string): { values: Record<string, string>; stray: string[] } {
  const values: Record<string, string> = {};
  const stray: string[] = [];
  for (const m of text.matchAll(/(\w+)=(?:"([^"]*)"|(\S*))|(\S+)/g)) {
    if (m[4] !== undefined) stray.push(m[4]);
    else values[m[1]!] = m[2] ?? m[3] ?? '';
  }
  return { values, stray };
}
