// The incident store's own contract on both backends (a SQLite file and a real PostgreSQL 15):
// versioned migrations at open (recorded, idempotent on reopen, refusing a newer schema),
// idempotent records, the reads reports and /metrics use. SQLite stores made before the
// migrations table (PRAGMA user_version) are adopted as they stand.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionCounts, approvalKpis, cellKey } from '../../src/store/kpis.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { openIncidentStore, type IncidentStore } from '../../src/store/store.js';
import { openPostgres } from '../../src/store/postgres.js';
import { openSqlite } from '../../src/store/sqlite.js';
import type { SqlDb } from '../../src/store/sql.js';
import type { IncidentStatus, PublishInput } from '../../workflows/contracts.js';
import { publishInput, STORE_BACKENDS } from '../support/stores.js';

const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
const ID = 'incident:disk:0123456789ab:abcdef01';
const base = { incidentId: ID, playbook: 'disk', service: 'api', alertname: 'DiskFull', target: 'host-1', startedAt: T0 };
const publish = (incident: Partial<IncidentStatus>, entries: PublishInput['entries']): PublishInput => publishInput({ ...base, ...incident }, entries);
const opening = publish({}, [
  { seq: 0, at: T0, kind: 'alert.opened', message: 'incident opened: DiskFull on host-1', data: { detection: { source: 'alertmanager', startsAt: new Date(T0 - 45_000).toISOString(), receivedAt: T0 } } },
]);
const acted = publish({ acted: true, status: 'verifying' }, [
  { seq: 1, at: T0 + 1_000, kind: 'action.started', step: 0, message: 'step 1/1 (clean-up) started', data: { idempotencyKey: `${ID}:step-0:try-1`, stepName: 'clean-up', try: 1, dryRun: false } },
  { seq: 2, at: T0 + 3_000, kind: 'action.succeeded', step: 0, message: 'step 1/1 (clean-up) succeeded: HTTP 200', data: { dryRun: false, httpStatus: 200, output: { status: 200 } } },
  { seq: 3, at: T0 + 9_000, kind: 'verification.passed', step: 0, message: 'verified: probe held for 5s', data: {} },
]);
const healed = publish({ acted: true, status: 'resolved', outcome: 'healed by step 1/1 (clean-up)', endedAt: T0 + 10_000 }, [
  { seq: 4, at: T0 + 10_000, kind: 'resolution', message: 'resolved: healed by step 1/1 (clean-up)', data: { status: 'resolved', outcome: 'healed by step 1/1 (clean-up)' } },
]);

describe.each(STORE_BACKENDS)('incident store contract ($name)', (backend) => {
  let started: Awaited<ReturnType<typeof backend.start>>;
  let store: IncidentStore;
  beforeAll(async () => {
    started = await backend.start();
    store = await started.open();
  });
  afterAll(async () => {
    await store?.close();
    await started?.close();
  });

  it('lists the actions medic ran on a target within a window, from other incidents than the asking one (evidence: what changed)', async () => {
    for (const p of [opening, acted]) await store.record(p);
    const on = async (target: string, except: string) => (await store.actionsOnTarget(target, T0, T0 + 60_000, except)).map((r) => ({ ...r, at: Number(r.at) }));
    expect(await on('host-1', 'incident:other')).toEqual([{ incident_id: ID, at: T0 + 3_000, message: 'step 1/1 (clean-up) succeeded: HTTP 200', kind: 'action.succeeded' }]);
    expect(await on('host-1', ID)).toEqual([]);
    expect(await on('host-2', 'incident:other')).toEqual([]);
  });

  it('runs every migration once at open and records it; reopening applies nothing', async () => {
    expect(store.kind).toBe(backend.name);
    expect(await store.schemaVersions()).toEqual(MIGRATIONS.map((_, i) => i + 1));
    const again = await started.open();
    try {
      expect(await again.schemaVersions()).toEqual(MIGRATIONS.map((_, i) => i + 1));
    } finally {
      await again.close();
    }
  });

  it('keeps an incident, its timeline once per seq, its step tries and timings', async () => {
    for (const p of [opening, acted, acted, healed, opening]) await store.record(p); // retries repeat publishes
    const row = await store.incident(ID);
    expect(row).toMatchObject({ status: 'resolved', outcome_class: 'auto_resolved', acted: 1, escalated: 0, opened_at: T0, ended_at: T0 + 10_000, ttd_seconds: 45 });
    expect(typeof row!.opened_at).toBe('number'); // BIGINT comes back as a number on PostgreSQL too
    expect((await store.events(ID)).map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(JSON.parse((await store.events(ID))[0]!.data!)).toMatchObject({ detection: { source: 'alertmanager' } });
    expect(await store.steps(ID)).toEqual([
      { incident_id: ID, step: 0, try: 1, name: 'clean-up', started_at: T0 + 1_000, ended_at: T0 + 3_000, result: 'succeeded', http_status: 200, verified: 1 },
    ]);
    // an older publish arriving late does not undo the end
    await store.record(acted);
    expect((await store.incident(ID))!.status).toBe('resolved');
  });

  it('answers the reads reports and /metrics use', async () => {
    expect(await store.incident('incident:none:000000000000:00000000')).toBeUndefined();
    expect((await store.openedBetween(T0, T0 + 1)).map((r) => r.incident_id)).toEqual([ID]);
    expect(await store.openedBetween(T0 + 1, T0 + 2)).toEqual([]);
    expect(await store.outcomes()).toEqual([{ outcome: 'auto_resolved', n: 1 }]);
    expect(await store.openCount()).toBe(0);
    expect(await store.recoverySeconds()).toEqual([10]);
    expect(await store.stepResults()).toEqual([{ playbook: 'disk', step: 'clean-up', result: 'succeeded', n: 1 }]);
  });

  it('keeps KPI counters equal to what scanning every row gives, through repeats, late publishes and a human resolve', async () => {
    const other = 'incident:gate:0123456789ab:12345678';
    const o = (incident: Partial<IncidentStatus>, entries: PublishInput['entries']): PublishInput => {
      const p = publish({ incidentId: other, workflowId: other.slice(0, -9), playbook: 'gate', ...incident }, entries);
      return p;
    };
    const requested = o({ status: 'awaiting_approval' }, [
      { seq: 0, at: T0, kind: 'alert.opened', message: 'incident opened', data: { detection: { source: 'generic' } } },
      { seq: 1, at: T0 + 1_000, kind: 'approval.requested', step: 0, message: 'approval needed', data: { request: { step: 0, stepName: 'open', what: 'step 1/1 (open): POST http://x', risk: 'high' as const, approvers: ['alice'], fourEyes: false, requestedAt: T0 + 1_000, expiresAt: T0 + 3_601_000 } } },
    ]);
    for (const p of [requested, requested]) await store.record(p);
    const counters = async () => Object.fromEntries([...(await store.kpiCounters())].filter(([, v]) => v !== 0));
    const scans = async () => {
      const events = await store.kpiEvents();
      return { outcomes: await store.outcomes(), open: await store.openCount(), pending: approvalKpis(events).pending, latencies: approvalKpis(events).latencies, actions: actionCounts(events) };
    };
    expect(await scans()).toMatchObject({ open: 1, pending: 1 });
    expect(await counters()).toMatchObject({ [cellKey('medic_incidents_open')]: 1, [cellKey('medic_approvals_pending')]: 1, [cellKey('medic_incidents_total', { outcome: 'auto_resolved' })]: 1 });

    const approved = o({ status: 'escalated', escalationSent: true }, [
      { seq: 2, at: T0 + 31_000, kind: 'approval.decided', step: 0, message: 'step 1 approved by alice', data: { decision: 'approve', by: 'alice' } },
      { seq: 3, at: T0 + 32_000, kind: 'action.started', step: 0, message: 'step 1/1 (open) started', data: { idempotencyKey: `${other}:step-0:try-1`, stepName: 'open', try: 1, dryRun: false, action: 'http' } },
      { seq: 4, at: T0 + 33_000, kind: 'action.failed', step: 0, message: 'step 1/1 (open) failed: HTTP 500', data: {} },
    ]);
    const byHand = o({ status: 'resolved', outcome: 'resolved by carol', resolvedBy: { by: 'carol', at: T0 + 60_000 }, escalationSent: true, endedAt: T0 + 60_000 } as never, [
      { seq: 5, at: T0 + 60_000, kind: 'resolution', message: 'resolved: resolved by carol', data: { status: 'resolved', outcome: 'resolved by carol' } },
    ]);
    for (const p of [approved, byHand, approved, requested]) await store.record(p); // late and repeated publishes
    const s = await scans();
    expect(s.open).toBe(0);
    expect(s.pending).toBe(0);
    const c = await counters();
    expect(c).toEqual({
      [cellKey('medic_incidents_total', { outcome: 'auto_resolved' })]: 1,
      [cellKey('medic_incidents_total', { outcome: 'resolved_by_human' })]: 1,
      [cellKey('medic_incidents_escalated_total')]: 1,
      [cellKey('medic_incident_time_to_recover_seconds_bucket', { le: '15' })]: 1,
      [cellKey('medic_incident_time_to_recover_seconds_bucket', { le: '60' })]: 1,
      [cellKey('medic_incident_time_to_recover_seconds_sum')]: 70,
      [cellKey('medic_incident_time_to_recover_seconds_count')]: 2,
      [cellKey('medic_incident_time_to_detect_seconds_bucket', { le: '60' })]: 1,
      [cellKey('medic_incident_time_to_detect_seconds_sum')]: 45,
      [cellKey('medic_incident_time_to_detect_seconds_count')]: 1,
      [cellKey('medic_step_runs_total', { playbook: 'disk', step: 'clean-up', result: 'succeeded' })]: 1,
      [cellKey('medic_step_runs_total', { playbook: 'gate', step: 'open', result: 'failed' })]: 1,
      [cellKey('medic_approval_latency_seconds_bucket', { decision: 'approve', le: '30' })]: 1,
      [cellKey('medic_approval_latency_seconds_sum', { decision: 'approve' })]: 30,
      [cellKey('medic_approval_latency_seconds_count', { decision: 'approve' })]: 1,
      [cellKey('medic_actions_total', { type: 'http', result: 'failed' })]: 1,
      [cellKey('medic_actions_total', { type: 'unknown', result: 'succeeded' })]: 1,
    });
    // the same numbers the scans give
    expect(s.outcomes.sort((a, b) => a.outcome.localeCompare(b.outcome))).toEqual([{ outcome: 'auto_resolved', n: 1 }, { outcome: 'resolved_by_human', n: 1 }]);
    expect(s.latencies).toEqual([{ decision: 'approve', seconds: 30 }]);
    expect(s.actions.sort((a, b) => a.type.localeCompare(b.type))).toEqual([{ type: 'http', result: 'failed', n: 1 }, { type: 'unknown', result: 'succeeded', n: 1 }]);
  });

  it('similar past incidents: ranked by evidence signature, alertname, service and labels, with what fixed them and that fix\'s success rate', async () => {
    const twin = 'incident:disk:0123456789ab:7a7a7a7a';
    const db = 'incident:disk:0123456789ab:db0db0db';
    const at = T0 + 60_000;
    const labelled = (id: string, over: Partial<IncidentStatus>, labels: Record<string, string>, extra: PublishInput['entries'] = []): PublishInput =>
      publish({ incidentId: id, workflowId: id.slice(0, -9), startedAt: at, ...over }, [
        { seq: 0, at, kind: 'alert.received', message: 'DiskFull firing', data: { labels, status: 'firing', source: 'alertmanager' } },
        ...extra,
      ]);
    await store.record(
      labelled(twin, { acted: true, status: 'resolved', outcome: 'healed by step 1/1 (clean-up)', endedAt: at + 9_000, signature: 'disk-full host-1:/data' } as Partial<IncidentStatus>, { alertname: 'DiskFull', service: 'api', mount: '/data' }, [
        { seq: 1, at: at + 1_000, kind: 'action.started', step: 0, message: 'started', data: { idempotencyKey: `${twin}:step-0:try-1`, stepName: 'clean-up', try: 1, dryRun: false } },
        { seq: 2, at: at + 2_000, kind: 'action.succeeded', step: 0, message: 'succeeded', data: { dryRun: false, output: {} } },
        { seq: 3, at: at + 8_000, kind: 'verification.passed', step: 0, message: 'verified', data: {} },
        { seq: 4, at: at + 9_000, kind: 'resolution', message: 'resolved', data: { status: 'resolved', outcome: 'healed by step 1/1 (clean-up)' } },
      ]),
    );
    await store.record(labelled(db, { service: 'db', status: 'escalated', outcome: 'verification failed', endedAt: at + 5_000 }, { alertname: 'DiskFull', service: 'db', mount: '/var' }));
    const found = await store.similarTo({ incidentId: 'incident:disk:0123456789ab:99999999', playbook: 'disk', alertname: 'DiskFull', service: 'api', labels: { alertname: 'DiskFull', service: 'api', mount: '/data' }, signature: 'disk-full host-1:/data' });
    // The twin shares everything; the first incident alertname, service and playbook; the gate
    // incident (above) alertname and service; the db one only the alertname (too little).
    expect(found.map((f) => f.incidentId)).toEqual([twin, ID, 'incident:gate:0123456789ab:12345678']);
    expect(found[0]).toMatchObject({ why: 'same evidence (disk-full host-1:/data), alertname, service, labels mount=/data', outcome: 'healed by step 1/1 (clean-up)', postmortem: `/api/incidents/${encodeURIComponent(twin)}/postmortem` });
    expect(found[0]!.fix).toEqual({ step: 'clean-up', successRate: 1, runs: 2 });
  });

  it('refuses a store whose schema is newer than this medic', async () => {
    const newer = MIGRATIONS.length + 1;
    const raw: SqlDb = started.config.url ? openPostgres(started.config.url) : openSqlite(started.config.path!);
    try {
      await raw.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [newer, 'from the future', Date.now()]);
      await expect(started.open()).rejects.toThrow(`the incident store is at schema version ${newer}, newer than this medic knows (${MIGRATIONS.length}): upgrade medic`);
    } finally {
      await raw.run('DELETE FROM schema_migrations WHERE version = $1', [newer]);
      await raw.close();
    }
  });
});

describe('SQLite store made before the migrations table', () => {
  it('is adopted at its PRAGMA user_version and migrated from there', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'medic-legacy-')), 'store.db');
    const legacy = new BetterSqlite3(path);
    legacy.exec(MIGRATIONS[0]!.sql({ bigint: 'INTEGER', double: 'REAL' }));
    legacy.exec("INSERT INTO incidents (incident_id, workflow_id, playbook, service, alertname, severity, target, status, opened_at, updated_at) VALUES ('old', 'w', 'p', 's', 'a', 'warning', 't', 'open', 1, 1)");
    legacy.pragma('user_version = 1');
    legacy.close();
    const store = await openIncidentStore({ path });
    try {
      expect(await store.schemaVersions()).toEqual(MIGRATIONS.map((_, i) => i + 1));
      expect(await store.incident('old')).toMatchObject({ status: 'open', ttd_seconds: null });
      // the KPI counters were filled from the rows that were there (one open incident)
      expect(await store.kpiCounters()).toEqual(new Map([[cellKey('medic_incidents_open'), 1]]));
    } finally {
      await store.close();
    }
  });

  it('rewrites timeline rows written before typed entries once (schema 4 → 5), and reads them as typed entries', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'medic-untyped-')), 'store.db');
    const before = new BetterSqlite3(path);
    for (const m of MIGRATIONS.slice(0, 4)) before.exec(m.sql({ bigint: 'INTEGER', double: 'REAL' }));
    before.exec("INSERT INTO incidents (incident_id, workflow_id, playbook, service, alertname, severity, target, status, opened_at, updated_at) VALUES ('old', 'w', 'p', 's', 'a', 'warning', 't', 'open', 1, 1)");
    const rows: [number, string, number | null, string, unknown][] = [
      [0, 'alert', null, 'incident opened: a (warning) on t; playbook p', { detection: { source: 'alertmanager', startsAt: new Date(T0 - 30_000).toISOString(), receivedAt: T0 } }],
      [1, 'approval', 0, 'approval needed for step 1/1 (r): POST http://x', { request: { step: 0, stepName: 'r', what: 'POST http://x', risk: 'high', approvers: ['U1'], fourEyes: false, requestedAt: T0, expiresAt: T0 + 60_000 } }],
      [2, 'approval', 0, 'step 1/1 (r) approved by U1', { decision: 'approve', by: 'U1' }],
      [3, 'action', 0, 'step 1/1 (r) started: POST http://x', { idempotencyKey: 'old:step-0:try-1' }],
      [4, 'action', 0, 'step 1/1 (r) finished: POST http://x → 200 (5ms)', { status: 200 }],
      [5, 'verification', 0, 'verified: healthy for 30s (3 probes); ok', null],
      [6, 'resolution', null, 'resolved: healed by step 1/1 (r)', null],
    ];
    const insert = before.prepare('INSERT INTO incident_events (incident_id, seq, at, kind, step, message, data) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const [seq, kind, step, message, data] of rows) insert.run('old', seq, T0 + seq * 1000, kind, step, message, data === null ? null : JSON.stringify(data));
    before.pragma('user_version = 4');
    before.close();
    const store = await openIncidentStore({ path });
    try {
      expect(await store.schemaVersions()).toEqual(MIGRATIONS.map((_, i) => i + 1));
      expect((await store.events('old')).map((e) => e.kind)).toEqual(['alert.opened', 'approval.requested', 'approval.decided', 'action.started', 'action.succeeded', 'verification.passed', 'resolution']);
      const timeline = await store.timeline('old');
      expect(timeline.map((e) => e.message)).toEqual(rows.map((r) => r[3]));
      expect(timeline[3]).toMatchObject({ kind: 'action.started', step: 0, data: { idempotencyKey: 'old:step-0:try-1', stepName: 'r', try: 1, dryRun: false, action: 'http' } });
      expect(timeline[6]).toMatchObject({ kind: 'resolution', data: { status: 'resolved', outcome: 'healed by step 1/1 (r)' } });
      const events = await store.kpiEvents();
      expect(actionCounts(events)).toEqual([{ type: 'http', result: 'succeeded', n: 1 }]);
      expect(approvalKpis(events).latencies).toEqual([{ decision: 'approve', seconds: 2 }]);
    } finally {
      await store.close();
    }
  });

  it('says what is wrong with a store config', async () => {
    await expect(openIncidentStore({ kind: 'postgres' })).rejects.toThrow(/store\.url is required/);
    await expect(openIncidentStore({ kind: 'sqlite' })).rejects.toThrow(/store\.path is required/);
  });
});
