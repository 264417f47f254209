// The evidence pack: what medic saw of the target when the incident opened, after each action
// and when it escalated (Kubernetes pods, events, owners and nodes; the last log lines; the
// alert's series and the playbook's named queries; the HTTP probe's responses; what changed
// before the alert). Collected read-only by activities/evidence/, redacted and size-capped
// there, carried in a `control.evidence` timeline entry (so the store, the postmortem, the Slack
// thread and the PagerDuty page all see the same pack). Pure zod: bundled into the workflow.
import { z } from 'zod';

export const EVIDENCE_PARTS = ['kubernetes', 'logs', 'prometheus', 'http', 'changes'] as const;
export const EvidencePart = z.enum(EVIDENCE_PARTS);
export type EvidencePart = z.infer<typeof EvidencePart>;
export const EvidenceMoment = z.enum(['open', 'after-step', 'escalation']).describe('When the pack was collected: at open, after an action (before/after snapshots), at escalation.');
export type EvidenceMoment = z.infer<typeof EvidenceMoment>;

const Labels = z.record(z.string(), z.string());

export const ContainerEvidenceSchema = z.strictObject({
  name: z.string(),
  ready: z.boolean(),
  restarts: z.number().int().min(0),
  state: z.string().describe('running, waiting or terminated'),
  reason: z.string().optional().describe('e.g. CrashLoopBackOff (waiting) or Error (terminated)'),
  exitCode: z.number().int().optional(),
  lastState: z.strictObject({ reason: z.string().optional(), exitCode: z.number().int().optional(), finishedAt: z.string().optional() }).optional().describe('The previous run: OOMKilled with exit code 137, Error, Completed'),
});
export const PodEvidenceSchema = z.strictObject({
  name: z.string(),
  phase: z.string(),
  node: z.string().optional(),
  restarts: z.number().int().min(0),
  containers: z.array(ContainerEvidenceSchema),
});
export const KubeEventSchema = z.strictObject({
  at: z.string().describe('ISO time of the last occurrence'),
  type: z.string(),
  reason: z.string(),
  object: z.string().describe('Kind/name'),
  message: z.string(),
  count: z.number().int().min(1),
});
export const NodeEvidenceSchema = z.strictObject({
  name: z.string(),
  conditions: z.array(z.strictObject({ type: z.string(), status: z.string(), reason: z.string().optional() })).describe('Conditions that are not healthy (Ready!=True, any pressure=True); empty when the node is fine'),
});
export const KubernetesEvidenceSchema = z.strictObject({
  target: z.strictObject({ kind: z.string(), namespace: z.string(), name: z.string() }),
  owners: z.array(z.string()).describe('Owner chain from a pod up, e.g. Pod/web-1 → ReplicaSet/web-5d → Deployment/web'),
  pods: z.array(PodEvidenceSchema),
  events: z.array(KubeEventSchema).describe('Newest first'),
  nodes: z.array(NodeEvidenceSchema),
});

export const LogLineSchema = z.strictObject({ at: z.string().optional(), pod: z.string().optional(), line: z.string() });
export const LogsEvidenceSchema = z.strictObject({
  source: z.string().describe('pod-log-api or victorialogs'),
  query: z.string().describe('The query as sent (LogQL/LogsQL-shaped stream selector)'),
  lines: z.array(LogLineSchema).describe('Oldest first: the last lines before collection'),
});

export const SeriesSchema = z.strictObject({ labels: Labels, value: z.number().nullable() });
export const PrometheusEvidenceSchema = z.strictObject({
  queries: z.array(z.strictObject({ name: z.string(), query: z.string(), series: z.array(SeriesSchema), error: z.string().optional() })),
});

export const HttpResponseEvidenceSchema = z.strictObject({
  url: z.string(),
  status: z.number().int().optional(),
  ms: z.number().min(0),
  ok: z.boolean(),
  body: z.string().optional().describe('Start of the body (redacted)'),
  error: z.string().optional(),
});
export const HttpEvidenceSchema = z.strictObject({
  responses: z.array(HttpResponseEvidenceSchema),
  lastVerification: z.string().optional().describe("The verification probe's last evidence line, when a step was verified"),
});

export const CHANGE_KINDS = ['image', 'env', 'revision', 'configmap', 'rollout', 'flag', 'medic', 'marker'] as const;
export const ChangeKind = z.enum(CHANGE_KINDS);
export type ChangeKind = z.infer<typeof ChangeKind>;
export const ChangeSchema = z.strictObject({
  at: z.number().describe('Epoch ms'),
  kind: ChangeKind,
  what: z.string().describe('The object changed, e.g. Deployment shop/web'),
  detail: z.string().describe('e.g. image web:1.4 → web:1.5'),
  service: z.string().optional().describe('The service the change belongs to, when known'),
});
export type Change = z.infer<typeof ChangeSchema>;
export const ChangesEvidenceSchema = z.strictObject({
  windowMs: z.number().int().min(0),
  items: z.array(ChangeSchema).describe('Newest first'),
  likelyCause: z.strictObject({ index: z.number().int().min(0), reason: z.string() }).optional().describe('The change in the window matching the alert’s service, called out'),
});

export const MissingSchema = z.strictObject({ part: EvidencePart, reason: z.string() });

export const EvidencePackSchema = z
  .strictObject({
    moment: EvidenceMoment,
    step: z.number().int().min(0).optional().describe('After which step (after-step)'),
    collectedAt: z.number(),
    kubernetes: KubernetesEvidenceSchema.optional(),
    logs: LogsEvidenceSchema.optional(),
    prometheus: PrometheusEvidenceSchema.optional(),
    http: HttpEvidenceSchema.optional(),
    changes: ChangesEvidenceSchema.optional(),
    missing: z.array(MissingSchema).describe('Parts that could not be collected, and why (down, slow, garbage, refused)'),
    truncated: z.array(z.string()).optional().describe('What the size cap cut'),
  })
  .describe('What medic saw of the target; redacted and size-capped');
export type EvidencePack = z.infer<typeof EvidencePackSchema>;

/** Facts the decision core reads (`when:` conditions): derived from a pack, small. */
export interface EvidenceFacts {
  oomKilled: boolean;
  crashLoop: boolean;
  restarts: number;
  /** Epoch ms of the newest change of each kind (and `any`). */
  changed: Partial<Record<ChangeKind | 'any', number>>;
}
export const EVIDENCE_FACTS = ['oomKilled', 'crashLoop', 'restarts'] as const;

export function factsOf(p: EvidencePack): EvidenceFacts {
  const containers = (p.kubernetes?.pods ?? []).flatMap((pod) => pod.containers);
  const changed: EvidenceFacts['changed'] = {};
  for (const c of p.changes?.items ?? []) {
    changed[c.kind] = Math.max(changed[c.kind] ?? 0, c.at);
    changed.any = Math.max(changed.any ?? 0, c.at);
  }
  return {
    oomKilled: containers.some((c) => c.lastState?.reason === 'OOMKilled' || c.reason === 'OOMKilled'),
    crashLoop: containers.some((c) => c.reason === 'CrashLoopBackOff'),
    restarts: (p.kubernetes?.pods ?? []).reduce((n, pod) => n + pod.restarts, 0),
    changed,
  };
}
