// The incident store: each incident's alerts and decisions (its timeline), the steps it tried with
// their results, its outcome and timings. SQLite by default, PostgreSQL when configured — the same
// schema and queries over src/store/sql.ts; migrations run at open. Written by the store sink in
// the worker (activities/store.ts), read by /metrics, `medic report`, the digest and postmortems.
import type { PublishInput, TimelineEntry } from '../../workflows/contracts.js';
import { storeKindOf, type StoreConfig } from './config.js';
import { migrate } from './migrations.js';
import { openPostgres } from './postgres.js';
import type { SqlDb, SqlTx } from './sql.js';
import { openSqlite } from './sqlite.js';
import type { KpiEvent } from './kpis.js';
import { entryColumns, KPI_KINDS_SQL, rowToEntry, type EventRow } from './events.js';
import { readKpiCounters, refreshIncidentKpis } from './kpi-counters.js';
import { rankSimilar, rateKey, type Candidate, type SimilarIncident, type SimilarQuery, type StepRates } from './similar.js';

/** Candidates sharing the alertname, service or signature (newest first, bounded), ranked. */
async function similarTo(db: SqlDb, q: SimilarQuery, k: number): Promise<SimilarIncident[]> {
  const params: string[] = [q.incidentId, q.alertname];
  const alike = ['alertname = $2'];
  if (q.service) alike.push(`service = $${params.push(q.service)}`);
  if (q.signature) alike.push(`signature = $${params.push(q.signature)}`);
  const rows = await db.all<IncidentRow & { labels: string | null; signature: string | null }>(
    `SELECT * FROM incidents WHERE ended_at IS NOT NULL AND incident_id <> $1 AND (${alike.join(' OR ')}) ORDER BY opened_at DESC LIMIT 500`,
    params,
  );
  if (rows.length === 0) return [];
  const runs = await db.all<{ incident_id: string; playbook: string; name: string; ok: number; try: number; step: number }>(
    `SELECT s.incident_id, i.playbook, s.name, s.step, s.try, CASE WHEN s.result = 'succeeded' AND (s.verified IS NULL OR s.verified = 1) THEN 1 ELSE 0 END AS ok
     FROM steps s JOIN incidents i USING (incident_id) WHERE s.result IS NOT NULL AND i.playbook IN (SELECT DISTINCT playbook FROM incidents WHERE incident_id IN (${rows.map((_, n) => `$${n + 1}`).join(', ')}))`,
    rows.map((r) => r.incident_id),
  );
  const rates: StepRates = new Map();
  const fixedBy = new Map<string, string>();
  for (const r of runs) {
    const key = rateKey(r.playbook, r.name);
    const x = rates.get(key) ?? { healed: 0, runs: 0 };
    x.runs += 1;
    x.healed += Number(r.ok);
    rates.set(key, x);
    if (Number(r.ok) === 1) fixedBy.set(r.incident_id, r.name);
  }
  const parse = (t: string | null): Record<string, string> => {
    try {
      return t ? (JSON.parse(t) as Record<string, string>) : {};
    } catch {
      return {};
    }
  };
  const candidates: Candidate[] = rows.map((r) => {
    const links = parse(r.links);
    const fix = r.outcome_class === 'auto_resolved' ? fixedBy.get(r.incident_id) : undefined;
    return {
      incidentId: r.incident_id,
      playbook: r.playbook,
      alertname: r.alertname,
      service: r.service,
      labels: parse(r.labels),
      ...(r.signature ? { signature: r.signature } : {}),
      openedAt: Number(r.opened_at),
      outcome: r.outcome ?? r.status,
      ...(fix ? { fixedBy: fix } : {}),
      ...(links.slack ? { threadUrl: links.slack } : {}),
    };
  });
  return rankSimilar(q, candidates, rates, k);
}

/** Time to detect from an incident's opening alert: a detector's own measure (ttdSeconds
 * annotation), or for Alertmanager the time from startsAt to medic receiving it. */
export function ttdSecondsOf(d: { source?: unknown; startsAt?: unknown; receivedAt?: unknown; ttdSeconds?: unknown }): number | null {
  const own = Number(d.ttdSeconds);
  if (d.ttdSeconds !== undefined && Number.isFinite(own) && own >= 0) return own;
  if (d.source !== 'alertmanager' || typeof d.startsAt !== 'string' || typeof d.receivedAt !== 'number') return null;
  const started = Date.parse(d.startsAt);
  if (Number.isNaN(started) || started <= 0 || started > d.receivedAt) return null;
  return (d.receivedAt - started) / 1000;
}

/** How an incident ended, for KPIs. */
export type OutcomeClass = 'auto_resolved' | 'resolved_before_action' | 'resolved_after_escalation' | 'resolved_by_human' | 'escalated';

export function outcomeClass(status: string, outcome: string | undefined, escalated: boolean, byHuman = false): OutcomeClass | null {
  if (status === 'escalated') return 'escalated';
  if (status !== 'resolved') return null;
  if (byHuman) return 'resolved_by_human'; // a person resolved it (Slack Resolve, medic resolve)
  if (escalated) return 'resolved_after_escalation';
  if (outcome?.startsWith('alert resolved before medic acted')) return 'resolved_before_action';
  return 'auto_resolved';
}

/** Opens the configured store and brings its schema up to date. */
export async function openIncidentStore(where: StoreConfig, opts: { onError?: (err: Error) => void } = {}): Promise<IncidentStore> {
  let db: SqlDb;
  if (storeKindOf(where) === 'postgres') {
    if (!where.url) throw new Error('store.url is required for a PostgreSQL store (postgres://user:password@host:5432/db)');
    db = openPostgres(where.url, opts);
  } else {
    if (!where.path) throw new Error('store.path is required for a SQLite store');
    db = openSqlite(where.path);
  }
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return incidentStore(db);
}

const UPSERT_INCIDENT = `INSERT INTO incidents (incident_id, workflow_id, playbook, service, alertname, severity, target, status, outcome,
     outcome_class, acted, escalated, alerts_received, opened_at, ended_at, updated_at, links)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
   ON CONFLICT (incident_id) DO UPDATE SET status = excluded.status, outcome = excluded.outcome,
     outcome_class = excluded.outcome_class, acted = excluded.acted,
     escalated = CASE WHEN excluded.escalated > incidents.escalated THEN excluded.escalated ELSE incidents.escalated END,
     alerts_received = excluded.alerts_received, ended_at = excluded.ended_at, updated_at = excluded.updated_at,
     severity = excluded.severity, links = COALESCE(excluded.links, incidents.links)
   WHERE excluded.updated_at >= incidents.updated_at`;

/** The step tries table follows the action and verification entries. */
async function applyStep(tx: SqlTx, incidentId: string, e: TimelineEntry): Promise<void> {
  const currentTry = async (step: number): Promise<number | undefined> =>
    (await tx.all<{ try: number | null }>('SELECT max(try) AS try FROM steps WHERE incident_id = $1 AND step = $2', [incidentId, step]))[0]?.try ?? undefined;
  switch (e.kind) {
    case 'action.started':
      await tx.run('INSERT INTO steps (incident_id, step, try, name, started_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
        incidentId, e.step, e.data.try, e.data.stepName, e.at,
      ]);
      return;
    case 'action.succeeded':
    case 'action.failed': {
      const t = await currentTry(e.step);
      if (t === undefined) return;
      const result = e.kind === 'action.failed' ? 'failed' : e.data.dryRun ? 'dry run' : 'succeeded';
      await tx.run('UPDATE steps SET ended_at = $1, result = $2, http_status = $3 WHERE incident_id = $4 AND step = $5 AND try = $6', [
        e.at, result, e.data.httpStatus ?? null, incidentId, e.step, t,
      ]);
      return;
    }
    case 'verification.passed':
    case 'verification.failed': {
      const t = await currentTry(e.step);
      if (t !== undefined) await tx.run('UPDATE steps SET verified = $1 WHERE incident_id = $2 AND step = $3 AND try = $4', [e.kind === 'verification.passed' ? 1 : 0, incidentId, e.step, t]);
      return;
    }
    default:
      return;
  }
}

/** Where to look further: the alert's graph and silence, the runbook, the Slack thread. */
export interface IncidentLinks {
  graph?: string;
  silence?: string;
  runbook?: string;
  slack?: string;
}

function linksOf(input: PublishInput): string | null {
  const { alertLinks, runbookUrl } = input.incident;
  const slack = input.refs.slack?.permalink;
  const links: IncidentLinks = {
    ...(alertLinks?.graph ? { graph: alertLinks.graph } : {}),
    ...(alertLinks?.silence ? { silence: alertLinks.silence } : {}),
    ...(runbookUrl ? { runbook: runbookUrl } : {}),
    ...(slack ? { slack } : {}),
  };
  return Object.keys(links).length > 0 ? JSON.stringify(links) : null;
}

/** Records one publish: the incident's latest status and its new timeline entries (each once). */
async function record(tx: SqlTx, input: PublishInput): Promise<void> {
  const inc = input.incident;
  const escalated = inc.escalationSent || inc.status === 'escalated';
  await tx.run(UPSERT_INCIDENT, [
    inc.incidentId, inc.workflowId, inc.playbook, inc.service, inc.alertname, inc.severity, inc.target, inc.status, inc.outcome ?? null,
    inc.endedAt !== undefined ? outcomeClass(inc.status, inc.outcome, escalated, inc.resolvedBy !== undefined) : null,
    inc.acted ? 1 : 0, escalated ? 1 : 0, inc.alertsReceived, inc.startedAt, inc.endedAt ?? null,
    Math.max(inc.endedAt ?? 0, ...input.entries.map((e) => e.at), inc.startedAt),
    linksOf(input),
  ]);
  for (const e of input.entries) {
    const fresh = await tx.run(
      'INSERT INTO incident_events (incident_id, seq, at, kind, step, message, data) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
      [inc.incidentId, e.seq, e.at, ...entryColumns(e)],
    );
    if (fresh > 0) await applyStep(tx, inc.incidentId, e); // a retried publish changes nothing
    if (e.kind === 'alert.received') await tx.run('UPDATE incidents SET labels = $1 WHERE incident_id = $2 AND labels IS NULL', [JSON.stringify(e.data.labels), inc.incidentId]);
    const ttd = e.kind === 'alert.opened' ? ttdSecondsOf(e.data.detection) : null;
    if (ttd !== null) await tx.run('UPDATE incidents SET ttd_seconds = $1 WHERE incident_id = $2 AND ttd_seconds IS NULL', [ttd, inc.incidentId]);
  }
  if (inc.signature) await tx.run('UPDATE incidents SET signature = $1 WHERE incident_id = $2', [inc.signature, inc.incidentId]);
  await refreshIncidentKpis(tx, inc.incidentId);
}

export function incidentStore(db: SqlDb) {
  return {
    kind: db.dialect,
    record: (input: PublishInput): Promise<void> => db.transaction((tx) => record(tx, input)),
    incidents: () => db.all<IncidentRow>('SELECT * FROM incidents ORDER BY opened_at'),
    incident: async (incidentId: string): Promise<IncidentRow | undefined> =>
      (await db.all<IncidentRow>('SELECT * FROM incidents WHERE incident_id = $1', [incidentId]))[0],
    /** Incidents opened in [from, to) (epoch ms), for reports. */
    openedBetween: (from: number, to: number) => db.all<IncidentRow>('SELECT * FROM incidents WHERE opened_at >= $1 AND opened_at < $2 ORDER BY opened_at', [from, to]),
    steps: (incidentId: string) => db.all<StepRow>('SELECT * FROM steps WHERE incident_id = $1 ORDER BY step, try', [incidentId]),
    events: (incidentId: string) => db.all<EventRow>('SELECT * FROM incident_events WHERE incident_id = $1 ORDER BY seq', [incidentId]),
    /** The incident's timeline as typed entries (src/store/events.ts). */
    timeline: async (incidentId: string): Promise<TimelineEntry[]> => (await db.all<EventRow>('SELECT * FROM incident_events WHERE incident_id = $1 ORDER BY seq', [incidentId])).map(rowToEntry),
    /** Actions medic ran on a target in [since, until] (epoch ms), other incidents than `except`:
     * the evidence pack's "what changed" (activities/evidence). */
    actionsOnTarget: (target: string, since: number, until: number, except: string) =>
      db.all<{ incident_id: string; at: number; message: string; kind: string }>(
        `SELECT e.incident_id, e.at, e.message, e.kind FROM incident_events e JOIN incidents i USING (incident_id)
         WHERE i.target = $1 AND e.kind IN ('action.succeeded', 'action.failed') AND e.at >= $2 AND e.at <= $3 AND e.incident_id <> $4 ORDER BY e.at DESC LIMIT 20`,
        [target, since, until, except],
      ),
    /** Ended incidents per outcome class. */
    outcomes: () =>
      db.all<{ outcome: OutcomeClass; n: number }>('SELECT outcome_class AS outcome, CAST(count(*) AS INTEGER) AS n FROM incidents WHERE outcome_class IS NOT NULL GROUP BY 1'),
    openCount: async () => (await db.all<{ n: number }>('SELECT CAST(count(*) AS INTEGER) AS n FROM incidents WHERE ended_at IS NULL'))[0]!.n,
    /** Approval and action rows of every incident, with the incident's end: src/store/kpis.ts. */
    kpiEvents: () =>
      db.all<KpiEvent>(
        `SELECT e.incident_id, e.seq, e.at, e.kind, e.step, e.message, e.data, i.ended_at FROM incident_events e JOIN incidents i USING (incident_id)
         WHERE e.${KPI_KINDS_SQL} ORDER BY e.incident_id, e.seq`,
      ),
    /** Seconds from opening to recovery for incidents that ended resolved after medic acted, escalated, or a person resolved them. */
    recoverySeconds: async () =>
      (
        await db.all<{ s: number }>(
          `SELECT CAST(ended_at - opened_at AS DOUBLE PRECISION) / 1000.0 AS s FROM incidents WHERE outcome_class IN ('auto_resolved', 'resolved_after_escalation', 'resolved_by_human')`,
        )
      ).map((r) => Number(r.s)),
    stepResults: () =>
      db.all<{ playbook: string; step: string; result: string; n: number }>(
        'SELECT i.playbook, s.name AS step, s.result, CAST(count(*) AS INTEGER) AS n FROM steps s JOIN incidents i USING (incident_id) WHERE s.result IS NOT NULL GROUP BY 1, 2, 3',
      ),
    /** Ended incidents like this one, ranked (src/store/similar.ts). */
    similarTo: (q: SimilarQuery, k = 3) => similarTo(db, q, k),
    /** The KPI counters /metrics serves (src/store/kpi-counters.ts): O(metrics) rows. */
    kpiCounters: () => readKpiCounters(db),
    /** Applied schema versions, oldest first. */
    schemaVersions: async () => (await db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version),
    close: (): Promise<void> => db.close(),
  };
}
export type IncidentStore = ReturnType<typeof incidentStore>;

export interface IncidentRow {
  incident_id: string;
  workflow_id: string;
  playbook: string;
  service: string;
  alertname: string;
  severity: string;
  target: string;
  status: string;
  outcome: string | null;
  outcome_class: OutcomeClass | null;
  acted: number;
  escalated: number;
  alerts_received: number;
  opened_at: number;
  ended_at: number | null;
  updated_at: number;
  ttd_seconds: number | null;
  /** IncidentLinks as JSON, when any. */
  links: string | null;
}
export interface StepRow {
  incident_id: string;
  step: number;
  try: number;
  name: string;
  started_at: number;
  ended_at: number | null;
  result: string | null;
  http_status: number | null;
  verified: number | null;
}
export type { EventRow };
