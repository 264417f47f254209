// The incident store's schema, as versioned migrations shared by SQLite and PostgreSQL (only the
// column types differ), applied at open and recorded in schema_migrations. A SQLite store made
// before that table existed (versioned by PRAGMA user_version) is adopted as it stands.
import { upgradeStoredEvents } from './events.js';
import { backfillKpis } from './kpi-counters.js';
import type { Dialect, SqlDb, SqlTx } from './sql.js';

interface Types {
  /** Epoch milliseconds and counters: SQLite's INTEGER is 64-bit, PostgreSQL's is not. */
  bigint: string;
  double: string;
}
const TYPES: Record<Dialect, Types> = {
  sqlite: { bigint: 'INTEGER', double: 'REAL' },
  postgres: { bigint: 'BIGINT', double: 'DOUBLE PRECISION' },
};

export const MIGRATIONS: { name: string; sql: (t: Types) => string; /** Fills what the SQL added, from existing rows. */ after?: (tx: SqlTx) => Promise<void> }[] = [
  {
    name: 'incidents, timeline events and step tries',
    sql: (t) => `CREATE TABLE incidents (
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
       opened_at ${t.bigint} NOT NULL,
       ended_at ${t.bigint},
       updated_at ${t.bigint} NOT NULL
     );
     CREATE TABLE incident_events (
       incident_id TEXT NOT NULL,
       seq INTEGER NOT NULL,
       at ${t.bigint} NOT NULL,
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
       started_at ${t.bigint} NOT NULL,
       ended_at ${t.bigint},
       result TEXT,
       http_status INTEGER,
       verified INTEGER,
       PRIMARY KEY (incident_id, step, try)
     );
     CREATE INDEX incidents_ended ON incidents (ended_at);`,
  },
  {
    // Seconds from the problem starting to medic receiving the alert, where known.
    name: 'time to detect',
    sql: (t) => `ALTER TABLE incidents ADD COLUMN ttd_seconds ${t.double};
     CREATE INDEX incidents_opened ON incidents (opened_at);`,
  },
  {
    // The alert's graph and silence links, the runbook and the Slack thread (JSON), for postmortems.
    name: 'incident links',
    sql: () => 'ALTER TABLE incidents ADD COLUMN links TEXT;',
  },
  {
    // KPI counters kept as incidents are recorded (src/store/kpi-counters.ts): /metrics reads these
    // instead of scanning every incident, event and step on each scrape.
    name: 'kpi counters',
    sql: (t) => `CREATE TABLE incident_kpis (incident_id TEXT PRIMARY KEY, cells TEXT NOT NULL);
     CREATE TABLE kpi_counters (metric TEXT NOT NULL, labels TEXT NOT NULL, value ${t.double} NOT NULL, PRIMARY KEY (metric, labels));`,
    after: backfillKpis,
  },
  {
    // Timeline entries are a typed union now (workflows/contracts-timeline.ts): rows written before it are
    // rewritten once as typed entries (workflows/contracts-timeline-legacy.ts); their KPI cells stay as they are.
    name: 'typed timeline entries',
    sql: () => 'CREATE INDEX incident_events_kind ON incident_events (kind);',
    after: async (tx) => void (await upgradeStoredEvents(tx)),
  },
  {
    // Similar past incidents (src/store/similar.ts): the opening alert's labels (JSON) and the
    // evidence signature (e.g. OOMKilled on a Deployment), when the evidence pack set one.
    name: 'similar incidents',
    sql: () => `ALTER TABLE incidents ADD COLUMN labels TEXT;
     ALTER TABLE incidents ADD COLUMN signature TEXT;
     CREATE INDEX incidents_alertname ON incidents (alertname);`,
  },
];

/** Arbitrary, fixed: serialises migrations of a worker and a server starting together. */
const PG_LOCK = 7_311_946_201;

/** Applies what is missing; resolves to the versions it applied. */
export async function migrate(db: SqlDb, now = Date.now()): Promise<number[]> {
  const t = TYPES[db.dialect];
  return db.transaction(async (tx) => {
    if (db.dialect === 'postgres') await tx.all('SELECT pg_advisory_xact_lock($1)', [PG_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${t.bigint} NOT NULL)`);
    const done = new Set((await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    if (done.size === 0 && db.dialect === 'sqlite') {
      const legacy = (await tx.all<{ user_version: number }>('PRAGMA user_version'))[0]?.user_version ?? 0;
      for (let v = 1; v <= legacy; v++) {
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [v, `${MIGRATIONS[v - 1]?.name ?? '?'} (adopted from user_version)`, now]);
        done.add(v);
      }
    }
    const newest = Math.max(0, ...done);
    if (newest > MIGRATIONS.length) {
      throw new Error(`the incident store is at schema version ${newest}, newer than this medic knows (${MIGRATIONS.length}): upgrade medic`);
    }
    const applied: number[] = [];
    for (const [i, m] of MIGRATIONS.entries()) {
      const version = i + 1;
      if (done.has(version)) continue;
      await tx.exec(m.sql(t));
      await m.after?.(tx);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [version, m.name, now]);
      applied.push(version);
    }
    return applied;
  });
}
