// The playbook's `evidence:` block: what to collect about the target (all optional; an empty
// block still records the alert's series and medic's own earlier actions). Values may be
// templates; each is rendered for where it lands (src/evidence/request.ts) and re-validated.
import { z } from 'zod';
import { PromqlTemplateSchema } from '../playbooks/render-promql.js';
import { urlTemplateProblem } from '../playbooks/render-url.js';
import { DURATION_PATTERN } from '../playbooks/duration.js';

const Duration = z.string().regex(DURATION_PATTERN, 'must be a duration like 500ms, 30s, 5m, 1h or 2d');
const Promql = PromqlTemplateSchema;
const Url = z.string().superRefine((v, c) => {
  const problem = urlTemplateProblem(v);
  if (problem) c.addIssue({ code: 'custom', message: problem });
});
const LabelKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'must be a log field name (letters, digits, _ and .)');

export const EvidenceConfigSchema = z
  .strictObject({
    kubernetes: z
      .strictObject({
        kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Pod']).default('Deployment'),
        namespace: z.string().min(1).optional().describe('Default: kubernetes.namespace of the config; a template must pick one of allow.kubernetes.namespaces'),
        name: z.string().min(1).describe('The object (templates need allow.kubernetes.names.<kind>, as for actions)'),
      })
      .optional()
      .describe("The target's pods (status, last state, restarts), events, owner chain and nodes"),
    logs: z
      .strictObject({
        selector: z.record(LabelKey, z.string()).refine((s) => Object.keys(s).length > 0, { message: 'selector needs at least one field' }).describe('Stream selector, field → value (templates allowed; values are quoted and escaped), e.g. {namespace: shop, app: "{{labels.service}}"}'),
        lines: z.number().int().min(1).max(200).default(20).describe('Last log lines to keep'),
        since: Duration.default('15m').describe('How far back to look'),
      })
      .optional()
      .describe('The last container log lines, through the log source (the pod log API, or a log store)'),
    queries: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,40}$/, 'must be a short name'), Promql).default({}).describe('Named PromQL queries whose values are recorded (templates only inside quoted strings, escaped)'),
    alertSeries: z.boolean().default(true).describe("Record the alert's own series (ALERTS{alertname=…})"),
    http: z.array(Url).max(5).default([]).describe('URLs probed once per collection (default: the steps’ HTTP verification URLs)'),
    changes: z
      .strictObject({
        window: Duration.default('30m').describe('How far before the alert to look for changes'),
        unleash: z
          .strictObject({
            url: Url.describe('Unleash base URL'),
            tokenSecret: z.string().regex(/^[A-Za-z0-9_]+$/, 'must be a secret name (letters, digits, _)').describe('Secret holding an Unleash admin token'),
          })
          .optional()
          .describe('Flag changes from Unleash’s event log'),
      })
      .default({ window: '30m' }),
    timeout: Duration.default('5s').describe('Deadline of each read (a slow part is reported missing, never waited for)'),
  })
  .describe('Evidence collected at open, after each action and at escalation (read-only)');
export type EvidenceConfig = z.infer<typeof EvidenceConfigSchema>;
