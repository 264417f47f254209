// The incident store (SQLite via better-sqlite3): each incident's alerts and decisions (its
// timeline), the steps it tried with their results, its outcome and timings. Written by the store
// sink in the worker (activities/store.ts), read by /metrics and reports. Migrations run at open.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import type { PublishInput, TimelineEntry } from '../../workflows/contracts.js';

const MIGRATIONS: string[] = [
  `CREATE TABLE incidents (
     incident_id TEXT PRIMARY KEY,
     workflow_id TEXT NOT NULL,
     playbook TEXT NOT NULL,
     service TEXT NOT NULL,
     alertname TEXT NOT NULL,
     severity TEXT NOT NULL,
     target TEXT NOT NULL,
     status TEXT NOT NULL,
     outcome TEXT,
     outcome_class TEXT,
     acted INTEGER NOT NULL DEFAULT 0,
     escalated INTEGER NOT NULL DEFAULT 0,
     alerts_received INTEGER NOT NULL DEFAULT 0,
     opened_at INTEGER NOT NULL,
     ended_at INTEGER,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE incident_events (
     incident_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     step INTEGER,
     message TEXT NOT NULL,
     data TEXT,
     PRIMARY KEY (incident_id, seq)
   );
   CREATE TABLE steps (
     incident_id TEXT NOT NULL,
     step INTEGER NOT NULL,
     try INTEGER NOT NULL,
     name TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     result TEXT,
     http_status INTEGER,
     verified INTEGER,
     PRIMARY KEY (incident_id, step, try)
   );
   CREATE INDEX incidents_ended ON incidents (ended_at);`,
  // Time to detect (seconds from the problem starting to medic receiving the alert), where known.
  `ALTER TABLE incidents ADD COLUMN ttd_seconds REAL;
   CREATE INDEX incidents_opened ON incidents (opened_at);`,
];

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
export type OutcomeClass = 'auto_resolved' | 'resolved_before_action' | 'resolved_after_escalation' | 'escalated';

export function outcomeClass(status: string, outcome: string | undefined, escalated: boolean): OutcomeClass | null {
  if (status === 'escalated') return 'escalated';
  if (status !== 'resolved') return null;
  if (escalated) return 'resolved_after_escalation';
  if (outcome?.startsWith('alert resolved before medic acted')) return 'resolved_before_action';
  return 'auto_resolved';
}

export function openStore(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
  return db;
}

const TRY = /:step-(\d+):try-(\d+)$/;

export function incidentStore(db: Database) {
  const upsertIncident = db.prepare(
    `INSERT INTO incidents (incident_id, workflow_id, playbook, service, alertname, severity, target, status, outcome, outcome_class,
       acted, escalated, alerts_received, opened_at, ended_at, updated_at)
     VALUES (@incidentId, @workflowId, @playbook, @service, @alertname, @severity, @target, @status, @outcome, @outcomeClass,
       @acted, @escalated, @alertsReceived, @openedAt, @endedAt, @updatedAt)
     ON CONFLICT (incident_id) DO UPDATE SET status = excluded.status, outcome = excluded.outcome,
       outcome_class = excluded.outcome_class, acted = excluded.acted, escalated = max(incidents.escalated, excluded.escalated),
       alerts_received = excluded.alerts_received, ended_at = excluded.ended_at, updated_at = excluded.updated_at,
       severity = excluded.severity
     WHERE excluded.updated_at >= incidents.updated_at`,
  );
  const insertEvent = db.prepare(
    'INSERT INTO incident_events (incident_id, seq, at, kind, step, message, data) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const startStep = db.prepare(
    'INSERT INTO steps (incident_id, step, try, name, started_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const latestTry = db.prepare<[string, number], { try: number }>('SELECT max(try) AS try FROM steps WHERE incident_id = ? AND step = ?');
  const endStep = db.prepare('UPDATE steps SET ended_at = ?, result = ?, http_status = ? WHERE incident_id = ? AND step = ? AND try = ?');
  const verifyStep = db.prepare('UPDATE steps SET verified = ? WHERE incident_id = ? AND step = ? AND try = ?');
  const setTtd = db.prepare('UPDATE incidents SET ttd_seconds = ? WHERE incident_id = ? AND ttd_seconds IS NULL');

  function applyStep(incidentId: string, e: TimelineEntry): void {
    if (e.step === undefined) return;
    const d = e.data ?? {};
    if (e.kind === 'action' && typeof d.idempotencyKey === 'string') {
      const m = TRY.exec(d.idempotencyKey);
      const name = /^step \d+\/\d+ \((.*)\) (?:started|dry run)/.exec(e.message)?.[1] ?? `step ${e.step + 1}`;
      startStep.run(incidentId, e.step, m ? Number(m[2]) : 1, name, e.at);
      return;
    }
    const t = latestTry.get(incidentId, e.step)?.try;
    if (t === null || t === undefined) return;
    if (e.kind === 'action') {
      const failed = d.failed === true || / failed: /.test(e.message);
      const result = failed ? 'failed' : /dry run/.test(e.message) ? 'dry run' : 'succeeded';
      endStep.run(e.at, result, typeof d.status === 'number' ? d.status : null, incidentId, e.step, t);
    } else if (e.kind === 'verification') {
      if (e.message.startsWith('verified')) verifyStep.run(1, incidentId, e.step, t);
      else if (e.message.startsWith('verification failed')) verifyStep.run(0, incidentId, e.step, t);
    }
  }

  /** Records one publish: the incident's latest status and its new timeline entries (each once). */
  const record = db.transaction((input: PublishInput) => {
    const inc = input.incident;
    const escalated = inc.escalationSent || inc.status === 'escalated';
    upsertIncident.run({
      incidentId: inc.incidentId,
      workflowId: inc.workflowId,
      playbook: inc.playbook,
      service: inc.service,
      alertname: inc.alertname,
      severity: inc.severity,
      target: inc.target,
      status: inc.status,
      outcome: inc.outcome ?? null,
      outcomeClass: inc.endedAt !== undefined ? outcomeClass(inc.status, inc.outcome, escalated) : null,
      acted: inc.acted ? 1 : 0,
      escalated: escalated ? 1 : 0,
      alertsReceived: inc.alertsReceived,
      openedAt: inc.startedAt,
      endedAt: inc.endedAt ?? null,
      updatedAt: Math.max(inc.endedAt ?? 0, ...input.entries.map((e) => e.at), inc.startedAt),
    });
    for (const e of input.entries) {
      const fresh = insertEvent.run(inc.incidentId, e.seq, e.at, e.kind, e.step ?? null, e.message, e.data ? JSON.stringify(e.data) : null);
      if (fresh.changes > 0) applyStep(inc.incidentId, e); // a retried publish changes nothing
      const detection = e.kind === 'alert' ? (e.data?.detection as Record<string, unknown> | undefined) : undefined;
      const ttd = detection ? ttdSecondsOf(detection) : null;
      if (ttd !== null) setTtd.run(ttd, inc.incidentId);
    }
  });

  return {
    record: (input: PublishInput): void => record.immediate(input),
    incidents: () => db.prepare('SELECT * FROM incidents ORDER BY opened_at').all() as IncidentRow[],
    /** Incidents opened in [from, to) (epoch ms), for reports. */
    openedBetween: (from: number, to: number) =>
      db.prepare('SELECT * FROM incidents WHERE opened_at >= ? AND opened_at < ? ORDER BY opened_at').all(from, to) as IncidentRow[],
    steps: (incidentId: string) => db.prepare('SELECT * FROM steps WHERE incident_id = ? ORDER BY step, try').all(incidentId) as StepRow[],
    events: (incidentId: string) => db.prepare('SELECT * FROM incident_events WHERE incident_id = ? ORDER BY seq').all(incidentId) as EventRow[],
    /** Ended incidents per outcome class. */
    outcomes: () => db.prepare('SELECT outcome_class AS outcome, count(*) AS n FROM incidents WHERE outcome_class IS NOT NULL GROUP BY 1').all() as { outcome: OutcomeClass; n: number }[],
    openCount: () => (db.prepare('SELECT count(*) AS n FROM incidents WHERE ended_at IS NULL').get() as { n: number }).n,
    /** Seconds from opening to recovery for incidents that ended resolved after medic acted or escalated. */
    recoverySeconds: () =>
      (db.prepare(`SELECT (ended_at - opened_at) / 1000.0 AS s FROM incidents WHERE outcome_class IN ('auto_resolved', 'resolved_after_escalation')`).all() as { s: number }[]).map((r) => r.s),
    stepResults: () =>
      db.prepare(`SELECT i.playbook, s.name AS step, s.result, count(*) AS n FROM steps s JOIN incidents i USING (incident_id) WHERE s.result IS NOT NULL GROUP BY 1, 2, 3`).all() as {
        playbook: string;
        step: string;
        result: string;
        n: number;
      }[],
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
export interface EventRow {
  incident_id: string;
  seq: number;
  at: number;
  kind: string;
  step: number | null;
  message: string;
  data: string | null;
}
