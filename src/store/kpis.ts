// KPIs derived from the incident store's timeline rows (pure functions, same on SQLite and
// PostgreSQL): approvals (pending now, and how long people took to decide) and actions by type
// and result. The workers write the rows (store sink); the server computes these at scrape time,
// so every process reports the same numbers.
import type { TimelineEntry } from '../../workflows/contracts.js';
import { rowToEntry, type EventRow } from './events.js';

/** A timeline row with its incident's end (null while it runs). */
export type KpiEvent = EventRow & { ended_at: number | null };

/** Each incident's typed entries, in timeline order. */
const byIncident = (events: KpiEvent[]): Map<string, TimelineEntry[]> => {
  const out = new Map<string, TimelineEntry[]>();
  for (const e of events) (out.get(e.incident_id) ?? out.set(e.incident_id, []).get(e.incident_id)!).push(rowToEntry(e));
  for (const list of out.values()) list.sort((a, b) => a.seq - b.seq);
  return out;
};
const endedOf = (events: KpiEvent[]): Map<string, boolean> => new Map(events.map((e) => [e.incident_id, e.ended_at !== null && e.ended_at !== undefined]));

export interface ApprovalKpis {
  /** Requests of running incidents that nobody decided yet and that did not expire. */
  pending: number;
  /** Seconds from request to decision (or expiry), per decision. */
  latencies: { decision: 'approve' | 'deny' | 'expired'; seconds: number }[];
}

/** From approval entries: a request, then a decision or an expiry (a partial four-eyes approval is neither). */
export function approvalKpis(events: KpiEvent[]): ApprovalKpis {
  let pending = 0;
  const latencies: ApprovalKpis['latencies'] = [];
  const ended = endedOf(events);
  for (const [incident, list] of byIncident(events)) {
    let open: { at: number } | undefined;
    const settle = (decision: 'approve' | 'deny' | 'expired', at: number): void => {
      if (open) latencies.push({ decision, seconds: Math.max(0, (at - open.at) / 1000) });
      open = undefined;
    };
    for (const e of list) {
      switch (e.kind) {
        case 'approval.requested':
          open = { at: Number(e.data.request.requestedAt ?? e.at) };
          break;
        case 'approval.decided':
          settle(e.data.decision, e.at);
          break;
        case 'approval.expired':
          settle('expired', e.at);
          break;
        default:
          break;
      }
    }
    if (open && !ended.get(incident)) pending += 1;
  }
  return { pending, latencies };
}

/** Finished actions by kind and result (succeeded, failed, dry run): a start entry (which names
 * the action kind) followed by its outcome entry for the same step. */
export function actionCounts(events: KpiEvent[]): { type: string; result: string; n: number }[] {
  const counts = new Map<string, number>();
  for (const list of byIncident(events).values()) {
    const started = new Map<number, string>();
    for (const e of list) {
      switch (e.kind) {
        case 'action.started':
          started.set(e.step, e.data.action ?? 'unknown');
          break;
        case 'action.succeeded':
        case 'action.failed': {
          const type = started.get(e.step);
          if (type === undefined) break;
          started.delete(e.step);
          const result = e.kind === 'action.failed' ? 'failed' : e.data.dryRun ? 'dry run' : 'succeeded';
          const key = `${type}\u0000${result}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
          break;
        }
        default:
          break; // retries and moves ("trying again") are not outcomes
      }
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
