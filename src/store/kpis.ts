// KPIs derived from the incident store's timeline rows (pure functions, same on SQLite and
// PostgreSQL): approvals (pending now, and how long people took to decide) and actions by type
// and result. The workers write the rows (store sink); the server computes these at scrape time,
// so every process reports the same numbers.
import type { EventRow } from './store.js';

/** A timeline row with its incident's end (null while it runs). */
export type KpiEvent = EventRow & { ended_at: number | null };

const dataOf = (e: EventRow): Record<string, unknown> => {
  if (!e.data) return {};
  try {
    return JSON.parse(e.data) as Record<string, unknown>;
  } catch {
    return {};
  }
};
const byIncident = (events: KpiEvent[]): Map<string, KpiEvent[]> => {
  const out = new Map<string, KpiEvent[]>();
  for (const e of events) (out.get(e.incident_id) ?? out.set(e.incident_id, []).get(e.incident_id)!).push(e);
  for (const list of out.values()) list.sort((a, b) => Number(a.seq) - Number(b.seq));
  return out;
};

export interface ApprovalKpis {
  /** Requests of running incidents that nobody decided yet and that did not expire. */
  pending: number;
  /** Seconds from request to decision (or expiry), per decision. */
  latencies: { decision: 'approve' | 'deny' | 'expired'; seconds: number }[];
}

/** From 'approval' rows: a request (data.request), then a decision (data.decision) or an expiry. */
export function approvalKpis(events: KpiEvent[]): ApprovalKpis {
  let pending = 0;
  const latencies: ApprovalKpis['latencies'] = [];
  for (const list of byIncident(events.filter((e) => e.kind === 'approval')).values()) {
    let open: { at: number; step: number | null } | undefined;
    const settle = (decision: 'approve' | 'deny' | 'expired', at: number): void => {
      if (open) latencies.push({ decision, seconds: Math.max(0, (Number(at) - open.at) / 1000) });
      open = undefined;
    };
    for (const e of list) {
      const d = dataOf(e);
      const request = d.request as { requestedAt?: number } | undefined;
      if (request && typeof request === 'object') {
        open = { at: Number(request.requestedAt ?? e.at), step: e.step };
      } else if (d.decision === 'approve' || d.decision === 'deny') {
        settle(d.decision, e.at);
      } else if (/expired unanswered/.test(e.message)) {
        settle('expired', e.at);
      }
    }
    if (open && (list[0]!.ended_at === null || list[0]!.ended_at === undefined)) pending += 1;
  }
  return { pending, latencies };
}

/** The action kind of an older start row that does not carry data.action, from its description. */
function kindFromMessage(message: string): string {
  const what = /(?:started|dry run): (.*)$/.exec(message)?.[1] ?? '';
  if (/^(GET|POST|PUT|PATCH|DELETE) /.test(what)) return 'http';
  if (what.startsWith('SSM Run Command')) return 'ssm-command';
  if (what.startsWith('SSM Automation')) return 'ssm-automation';
  return 'unknown';
}

/** Finished actions by kind and result (succeeded, failed, dry run), from 'action' rows: a start
 * row (data.idempotencyKey, data.action) followed by its outcome row for the same step. */
export function actionCounts(events: KpiEvent[]): { type: string; result: string; n: number }[] {
  const counts = new Map<string, number>();
  for (const list of byIncident(events.filter((e) => e.kind === 'action' && e.step !== null)).values()) {
    const started = new Map<number, string>();
    for (const e of list) {
      const d = dataOf(e);
      const step = Number(e.step);
      if (typeof d.idempotencyKey === 'string') {
        started.set(step, typeof d.action === 'string' ? d.action : kindFromMessage(e.message));
        continue;
      }
      const type = started.get(step);
      if (type === undefined) continue; // retries and moves ("trying again") are not outcomes
      started.delete(step);
      const failed = d.failed === true || / failed: /.test(e.message);
      const result = failed ? 'failed' : /dry run/.test(e.message) ? 'dry run' : 'succeeded';
      const key = `${type}\u0000${result}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts].map(([k, n]) => {
    const [type, result] = k.split('\u0000') as [string, string];
    return { type, result, n };
  });
}

// ---- KPI counters kept by the store, so /metrics reads O(metrics) rows, not every row ----------
// Each incident's contribution to every KPI (its "cells") is recomputed from its own rows when the
// store records it (O(that incident's rows)); the difference to what it contributed before is
// added to kpi_counters in the same transaction. The scan-based functions above define what each
// KPI means; the cells are built from them, so both agree by construction.

export const OUTCOME_CLASSES = ['auto_resolved', 'resolved_before_action', 'resolved_after_escalation', 'resolved_by_human', 'escalated'] as const;
export const RECOVERY_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400];
export const DETECT_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];
export const APPROVAL_BUCKETS = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];
const RECOVERED = new Set(['auto_resolved', 'resolved_after_escalation', 'resolved_by_human']);

/** metric \0 labels (JSON) → value. Histograms are kept as <name>_bucket (per bucket, not cumulative, le in the labels), <name>_sum, <name>_count. */
export type Cells = Map<string, number>;
export const cellKey = (metric: string, labels: Record<string, string> = {}): string => `${metric}\u0000${JSON.stringify(labels)}`;
export function splitKey(key: string): { metric: string; labels: Record<string, string> } {
  const i = key.indexOf('\u0000');
  return { metric: key.slice(0, i), labels: JSON.parse(key.slice(i + 1)) as Record<string, string> };
}

const add = (cells: Cells, key: string, v: number): void => void cells.set(key, (cells.get(key) ?? 0) + v);
function observe(cells: Cells, name: string, buckets: number[], value: number, labels: Record<string, string> = {}): void {
  const le = buckets.find((b) => value <= b);
  add(cells, cellKey(`${name}_bucket`, { ...labels, le: le === undefined ? '+Inf' : String(le) }), 1);
  add(cells, cellKey(`${name}_sum`, labels), value);
  add(cells, cellKey(`${name}_count`, labels), 1);
}

export interface KpiIncident {
  playbook: string;
  outcome_class: string | null;
  escalated: number;
  opened_at: number;
  ended_at: number | null;
  ttd_seconds: number | null;
}

/** What one incident contributes to every KPI on /metrics (src/store/metrics.ts). */
export function incidentCells(row: KpiIncident, events: EventRow[], steps: { name: string; result: string | null }[]): Cells {
  const cells: Cells = new Map();
  const ended = row.ended_at === null || row.ended_at === undefined ? null : Number(row.ended_at);
  if (row.outcome_class) {
    add(cells, cellKey('medic_incidents_total', { outcome: row.outcome_class }), 1);
    if (Number(row.escalated) === 1) add(cells, cellKey('medic_incidents_escalated_total'), 1);
    if (RECOVERED.has(row.outcome_class) && ended !== null) {
      observe(cells, 'medic_incident_time_to_recover_seconds', RECOVERY_BUCKETS, (ended - Number(row.opened_at)) / 1000);
    }
  }
  if (ended === null) add(cells, cellKey('medic_incidents_open'), 1);
  if (row.ttd_seconds !== null && row.ttd_seconds !== undefined) observe(cells, 'medic_incident_time_to_detect_seconds', DETECT_BUCKETS, Number(row.ttd_seconds));
  for (const s of steps) if (s.result) add(cells, cellKey('medic_step_runs_total', { playbook: row.playbook, step: s.name, result: s.result }), 1);
  const kpiEvents: KpiEvent[] = events.map((e) => ({ ...e, ended_at: ended }));
  const approvals = approvalKpis(kpiEvents);
  if (approvals.pending > 0) add(cells, cellKey('medic_approvals_pending'), approvals.pending);
  for (const l of approvals.latencies) observe(cells, 'medic_approval_latency_seconds', APPROVAL_BUCKETS, l.seconds, { decision: l.decision });
  for (const a of actionCounts(kpiEvents)) add(cells, cellKey('medic_actions_total', { type: a.type, result: a.result }), a.n);
  return cells;
}

/** new − old, without the cells that did not change. */
export function cellDelta(before: Cells, after: Cells): Cells {
  const out: Cells = new Map();
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) out.set(k, v - (before.get(k) ?? 0));
  for (const [k, v] of before) if (!after.has(k) && v !== 0) out.set(k, -v);
  return out;
}

export const cellsToJson = (cells: Cells): string => JSON.stringify(Object.fromEntries(cells));
export const cellsFromJson = (text: string | null | undefined): Cells => new Map(Object.entries(text ? (JSON.parse(text) as Record<string, number>) : {}));
