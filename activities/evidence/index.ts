// The evidence activity: one read-only collection of the evidence pack (src/evidence/schema.ts)
// for an incident — at open, after each action, at escalation. A factory over its clients
// (Kubernetes, a log source, fetch for Prometheus, HTTP and Unleash, the incident store for
// medic's own earlier actions). Every part runs in parallel under the request's deadline; a part
// that is down, slow or answers garbage is reported missing with the reason and the rest is
// kept: the activity itself never fails, so evidence never blocks an action or an escalation.
// The pack is redacted (activities/redact.ts) and size-capped before it leaves the activity (it
// enters workflow history, the store, Slack and PagerDuty).
import type { KubeClients } from '../kubernetes/client.js';
import { redact } from '../redact.js';
import { whatChanged } from '../../src/evidence/changes.js';
import type { EvidenceRequest } from '../../src/evidence/request.js';
import { EVIDENCE_PARTS, EvidencePackSchema, type Change, type EvidencePack, type EvidencePart } from '../../src/evidence/schema.js';
import { createKubernetesEvidence } from './kubernetes.js';
import type { LogSource } from './logs.js';
import { capPack, EVIDENCE_MAX_BYTES } from '../../src/evidence/cap.js';

export type { LogSource } from './logs.js';
export { podLogSource, victoriaLogsSource } from './logs.js';

export interface EvidenceDeps {
  fetch: typeof globalThis.fetch;
  /** Default Prometheus (MEDIC_PROMETHEUS_URL); absent: the prometheus part is missing. */
  prometheusUrl?: string;
  kubernetes?: { clients: KubeClients; namespace: string };
  /** Where log lines come from (default: the pod log API when Kubernetes is configured). */
  logs?: LogSource;
  secret: (name: string) => string | undefined;
  /** medic's own earlier actions on a target (the incident store). */
  medicActions?: (q: { target: string; since: number; until: number; incidentId: string }) => Promise<Change[]>;
  /** Deployment markers on a target (the governor). */
  markers?: (target: string, at: number) => Promise<Change[]>;
  maxBytes?: number;
}

const MAX_SERIES = 20;
const BODY_BYTES = 300;

/** Resolves to the part's value, or throws naming the deadline, whichever comes first. */
function withDeadline<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms}ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

const why = (err: unknown): string => {
  const e = err as { message?: string; cause?: { message?: string }; name?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer within the deadline';
  return redact(`${e.message ?? String(err)}${e.cause?.message ? ` (${e.cause.message})` : ''}`).slice(0, 300);
};

/** Every string in the pack redacted (secrets in log lines, event messages, bodies, env diffs). */
function redactDeep<T>(v: T): T {
  if (typeof v === 'string') return redact(v) as T;
  if (Array.isArray(v)) return v.map(redactDeep) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactDeep(x)])) as T;
  return v;
}

interface PromResponse {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: { metric?: Record<string, string>; value?: [number, string] }[] };
}

export function createEvidenceActivities(deps: EvidenceDeps) {
  const k8s = deps.kubernetes ? createKubernetesEvidence(deps.kubernetes.clients, deps.kubernetes.namespace) : undefined;
  const logs = deps.logs;

  async function prometheus(req: EvidenceRequest): Promise<NonNullable<EvidencePack['prometheus']>> {
    const base = deps.prometheusUrl;
    if (!base) throw new Error('no Prometheus configured (MEDIC_PROMETHEUS_URL)');
    const queries: NonNullable<EvidencePack['prometheus']>['queries'] = [];
    const failures: string[] = [];
    await Promise.all(
      req.queries.map(async ({ name, query }) => {
        try {
          const res = await deps.fetch(`${base.replace(/\/$/, '')}/api/v1/query?${new URLSearchParams({ query, time: String(req.at / 1000) })}`, { signal: AbortSignal.timeout(req.timeoutMs) });
          const text = await res.text();
          let body: PromResponse;
          try {
            body = JSON.parse(text) as PromResponse;
          } catch {
            throw new Error(`HTTP ${res.status}, not JSON: ${JSON.stringify(text.slice(0, 60))}`);
          }
          if (body.status !== 'success' || !Array.isArray(body.data?.result)) throw new Error(body.error ?? `HTTP ${res.status}, no result`);
          const series = body.data.result.slice(0, MAX_SERIES).map((r) => {
            const v = Number(r.value?.[1]);
            return { labels: r.metric ?? {}, value: Number.isFinite(v) ? v : null };
          });
          queries.push({ name, query, series });
        } catch (err) {
          failures.push(`${name}: ${why(err)}`);
          queries.push({ name, query, series: [], error: why(err) });
        }
      }),
    );
    if (queries.length > 0 && failures.length === queries.length) throw new Error(`every query failed: ${failures.join('; ')}`);
    return { queries: queries.sort((a, b) => req.queries.findIndex((q) => q.name === a.name) - req.queries.findIndex((q) => q.name === b.name)) };
  }

  async function http(req: EvidenceRequest): Promise<NonNullable<EvidencePack['http']>> {
    const responses = await Promise.all(
      req.http.map(async (url) => {
        const started = Date.now();
        try {
          const res = await deps.fetch(url, { signal: AbortSignal.timeout(req.timeoutMs), redirect: 'manual' });
          const body = (await res.text()).slice(0, BODY_BYTES);
          return { url, status: res.status, ms: Date.now() - started, ok: res.ok, ...(body ? { body } : {}) };
        } catch (err) {
          return { url, ms: Date.now() - started, ok: false, error: why(err) };
        }
      }),
    );
    return { responses, ...(req.lastVerification ? { lastVerification: req.lastVerification } : {}) };
  }

  async function unleash(req: EvidenceRequest): Promise<Change[]> {
    const u = req.changes.unleash!;
    const token = deps.secret(u.tokenSecret);
    if (!token) throw new Error(`secret ${u.tokenSecret} (Unleash token) is not configured`);
    const from = new Date(req.at - req.changes.windowMs).toISOString().slice(0, 10);
    const q = new URLSearchParams({ from: `IS:${from}`, limit: '200' });
    const res = await deps.fetch(`${u.url.replace(/\/$/, '')}/api/admin/search/events?${q}`, { headers: { authorization: token }, signal: AbortSignal.timeout(req.timeoutMs) });
    if (!res.ok) throw new Error(`Unleash answered HTTP ${res.status}`);
    const body = (await res.json()) as { events?: { type?: string; featureName?: string; environment?: string | null; createdAt?: string; createdBy?: string }[] };
    if (!Array.isArray(body.events)) throw new Error('Unleash answered without an events list');
    return body.events
      .filter((e) => e.featureName && e.createdAt && /^feature-/.test(e.type ?? '') && e.type !== 'feature-tagged')
      .map((e) => ({
        at: new Date(e.createdAt!).getTime(),
        kind: 'flag' as const,
        what: `flag ${e.featureName}${e.environment ? ` (${e.environment})` : ''}`,
        detail: `${e.type} by ${e.createdBy ?? '?'}`,
        ...(req.service && e.featureName!.includes(req.service) ? { service: req.service } : {}),
      }));
  }

  async function collectEvidence(req: EvidenceRequest): Promise<EvidencePack> {
    const missing: EvidencePack['missing'] = [...req.refused];
    const gap = (part: EvidencePart, err: unknown): undefined => void missing.push({ part, reason: why(err) });
    const t = req.timeoutMs;
    const [kube, logLines, prom, probe, flags, mine, markers] = await Promise.all([
      req.kubernetes ? (k8s ? withDeadline(t, k8s(req)).catch((e: unknown) => gap('kubernetes', e)) : gap('kubernetes', new Error('Kubernetes is not configured for this worker'))) : undefined,
      req.logs
        ? logs
          ? withDeadline(t, logs.read({ ...req.logs, timeoutMs: t })).catch((e: unknown) => gap('logs', e))
          : gap('logs', new Error('no log source configured (MEDIC_LOGS_URL, or Kubernetes for the pod log API)'))
        : undefined,
      req.queries.length > 0 ? withDeadline(t, prometheus(req)).catch((e: unknown) => gap('prometheus', e)) : undefined,
      req.http.length > 0 || req.lastVerification ? withDeadline(t + 500, http(req)).catch((e: unknown) => gap('http', e)) : undefined,
      req.changes.unleash ? withDeadline(t, unleash(req)).catch((e: unknown) => gap('changes', new Error(`flags: ${why(e)}`))) : undefined,
      deps.medicActions ? withDeadline(t, deps.medicActions({ target: req.target, since: req.at - req.changes.windowMs, until: req.at, incidentId: req.incidentId })).catch((e: unknown) => gap('changes', new Error(`medic's earlier actions: ${why(e)}`))) : undefined,
      deps.markers ? withDeadline(t, deps.markers(req.target, req.at)).catch((e: unknown) => gap('changes', new Error(`deployment markers: ${why(e)}`))) : undefined,
    ]);
    const changes = whatChanged([...(kube?.changes ?? []), ...(flags ?? []), ...(mine ?? []), ...(markers ?? [])], { at: req.at, windowMs: req.changes.windowMs, service: req.service });
    const raw: EvidencePack = {
      moment: req.moment,
      ...(req.step !== undefined ? { step: req.step } : {}),
      collectedAt: Date.now(),
      ...(kube ? { kubernetes: kube.kubernetes } : {}),
      ...(logLines ? { logs: logLines } : {}),
      ...(prom ? { prometheus: prom } : {}),
      ...(probe ? { http: probe } : {}),
      changes,
      missing,
    };
    // Zod last: a part a source filled with something not of the pack's shape is dropped and
    // reported missing; the rest is kept.
    let pack = redactDeep(raw);
    for (let round = 0; round < EVIDENCE_PARTS.length; round++) {
      const parsed = EvidencePackSchema.safeParse(pack);
      if (parsed.success) return capPack(parsed.data, deps.maxBytes ?? EVIDENCE_MAX_BYTES);
      const issue = parsed.error.issues[0]!;
      const part = EVIDENCE_PARTS.find((x) => x === issue.path[0]) ?? 'changes';
      const { [part]: _dropped, ...rest } = pack;
      pack = { ...rest, ...(part === 'changes' ? { changes: { windowMs: req.changes.windowMs, items: [] } } : {}), missing: [...pack.missing, { part, reason: `answered something malformed (${issue.path.join('.')}: ${issue.message}); dropped` }] } as EvidencePack;
    }
    return capPack({ moment: req.moment, collectedAt: Date.now(), missing }, deps.maxBytes ?? EVIDENCE_MAX_BYTES);
  }

  return { collectEvidence };
}
