// What one evidence collection asks for, rendered from the playbook's `evidence:` block and the
// alert (hostile data) for where each value lands: Kubernetes names validated against the
// playbook's allow-lists (as for actions), PromQL values escaped inside their strings, URLs
// percent-encoded, log selector values quoted by the log source and checked again there. A value
// that cannot be placed safely is not queried: the pack says which part is missing and why.
// Pure: the workflow and `medic simulate` render with it.
import { toMs } from '../playbooks/duration.js';
import type { Playbook } from '../playbooks/schema.js';
import { renderFor } from '../playbooks/render.js';
import { render, type TemplateContext } from '../playbooks/template.js';
import { firstRefusal, targetRefs } from '../policy/targets.js';
import type { EvidenceMoment, EvidencePart } from './schema.js';

export interface EvidenceRequest {
  incidentId: string;
  moment: EvidenceMoment;
  step?: number;
  /** Workflow time of the request (epoch ms): the end of the "what changed" window. */
  at: number;
  /** The alert's service label (the likely-cause match). */
  service?: string;
  /** The incident's target (medic's earlier actions on it are looked up). */
  target: string;
  kubernetes?: { kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Pod'; namespace?: string; name: string };
  logs?: { selector: Record<string, string>; lines: number; sinceMs: number };
  queries: { name: string; query: string }[];
  http: string[];
  changes: { windowMs: number; unleash?: { url: string; tokenSecret: string } };
  timeoutMs: number;
  lastVerification?: string;
  /** Parts refused before anything was asked (hostile values). */
  refused: { part: EvidencePart; reason: string }[];
}

const DEFAULT_TIMEOUT_MS = 5_000;

export function evidenceRequest(pb: Playbook, ctx: TemplateContext, o: { incidentId: string; moment: EvidenceMoment; step?: number; at: number; lastVerification?: string }): EvidenceRequest {
  const cfg = pb.evidence;
  const refused: EvidenceRequest['refused'] = [];
  const req: EvidenceRequest = {
    incidentId: o.incidentId,
    moment: o.moment,
    ...(o.step !== undefined ? { step: o.step } : {}),
    at: o.at,
    ...(ctx.labels.service ? { service: ctx.labels.service } : {}),
    target: ctx.target,
    queries: [],
    http: [],
    changes: { windowMs: toMs(cfg?.changes.window ?? '30m') },
    timeoutMs: cfg ? toMs(cfg.timeout) : DEFAULT_TIMEOUT_MS,
    ...(o.lastVerification ? { lastVerification: o.lastVerification } : {}),
    refused,
  };
  if (cfg?.changes.unleash) {
    const u = renderFor('url', cfg.changes.unleash.url, ctx, 'evidence.changes.unleash.url');
    if (u.ok) req.changes.unleash = { url: u.value, tokenSecret: cfg.changes.unleash.tokenSecret };
    else refused.push({ part: 'changes', reason: `refused, not queried: ${u.refusal.message}` });
  }
  const k = cfg?.kubernetes;
  if (k) {
    const rendered = { ...(k.namespace ? { namespace: render(k.namespace, ctx) } : {}), name: render(k.name, ctx) };
    const no = firstRefusal(targetRefs('evidence.kubernetes', k.kind, { ...(k.namespace ? { namespace: k.namespace } : {}), name: k.name }, rendered), pb.allow.kubernetes);
    if (no) refused.push({ part: 'kubernetes', reason: `refused, not queried: ${no.message}` });
    else req.kubernetes = { kind: k.kind, ...rendered };
  }
  if (cfg?.logs) {
    const selector: Record<string, string> = {};
    for (const [key, v] of Object.entries(cfg.logs.selector)) selector[key] = render(v, ctx);
    req.logs = { selector, lines: cfg.logs.lines, sinceMs: toMs(cfg.logs.since) };
  }
  const queries: [string, string][] = [];
  if (cfg?.alertSeries ?? true) queries.push(['alert', ctx.labels.service ? 'ALERTS{alertname="{{labels.alertname}}", service="{{labels.service}}"}' : 'ALERTS{alertname="{{labels.alertname}}"}']);
  queries.push(...Object.entries(cfg?.queries ?? {}));
  for (const [name, template] of queries) {
    const q = renderFor('promql', template, ctx, `evidence.queries.${name}`);
    if (q.ok) req.queries.push({ name, query: q.value });
    else refused.push({ part: 'prometheus', reason: `${name} refused, not queried: ${q.refusal.message}` });
  }
  const urls = cfg?.http.length ? cfg.http : pb.steps.flatMap((s) => (s.verification?.http ? [s.verification.http.url] : []));
  for (const [i, template] of [...new Set(urls)].slice(0, 5).entries()) {
    const u = renderFor('url', template, ctx, `evidence.http.${i}`);
    if (u.ok) req.http.push(u.value);
    else refused.push({ part: 'http', reason: `refused, not probed: ${u.refusal.message}` });
  }
  return req;
}
