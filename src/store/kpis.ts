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
