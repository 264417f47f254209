// The store's KPI counters (kpi_counters) and each incident's contribution to them
// (incident_kpis), kept up to date inside the transaction that records the incident, so every
// process reading the store (/metrics on any server replica) sees the same totals and a scrape
// reads one small table. Filled once from existing rows by the migration that adds them.
import { cellDelta, cellKey, cellsFromJson, cellsToJson, incidentCells, splitKey, type Cells, type KpiIncident } from './kpis.js';
import type { SqlTx } from './sql.js';
import { KPI_KINDS_SQL, upgradeStoredEvents, type EventRow } from './events.js';

const INCIDENT_COLUMNS = 'playbook, outcome_class, escalated, opened_at, ended_at, ttd_seconds';
const KPI_EVENT_KINDS = KPI_KINDS_SQL;

/** Adds `delta` to the counters, in key order (concurrent transactions lock rows in one order: no deadlock). */
async function addCounters(tx: SqlTx, delta: Cells): Promise<void> {
  for (const key of [...delta.keys()].sort()) {
    const { metric, labels } = splitKey(key);
    await tx.run(
      'INSERT INTO kpi_counters (metric, labels, value) VALUES ($1, $2, $3) ON CONFLICT (metric, labels) DO UPDATE SET value = kpi_counters.value + excluded.value',
      [metric, JSON.stringify(labels), delta.get(key)],
    );
  }
}

/** After recording an incident: its contribution now, minus what it contributed before. Call it
 * after the incident row was written (on PostgreSQL that row's lock orders concurrent records). */
export async function refreshIncidentKpis(tx: SqlTx, incidentId: string): Promise<void> {
  const row = (await tx.all<KpiIncident>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE incident_id = $1`, [incidentId]))[0];
  if (!row) return;
  const events = await tx.all<EventRow>(`SELECT incident_id, seq, at, kind, step, message, data FROM incident_events WHERE incident_id = $1 AND ${KPI_EVENT_KINDS} ORDER BY seq`, [incidentId]);
  const steps = await tx.all<{ name: string; result: string | null }>('SELECT name, result FROM steps WHERE incident_id = $1', [incidentId]);
  const before = cellsFromJson((await tx.all<{ cells: string }>('SELECT cells FROM incident_kpis WHERE incident_id = $1', [incidentId]))[0]?.cells);
  const after = incidentCells(row, events, steps);
  const delta = cellDelta(before, after);
  if (delta.size === 0) return;
  await tx.run('INSERT INTO incident_kpis (incident_id, cells) VALUES ($1, $2) ON CONFLICT (incident_id) DO UPDATE SET cells = excluded.cells', [incidentId, cellsToJson(after)]);
  await addCounters(tx, delta);
}

/** Once, from every existing row (the migration that adds the counters). */
export async function backfillKpis(tx: SqlTx): Promise<void> {
  await upgradeStoredEvents(tx); // the KPIs read typed entries: older rows are upgraded first
  const group = <T extends { incident_id: string }>(rows: T[]): Map<string, T[]> => {
    const out = new Map<string, T[]>();
    for (const r of rows) (out.get(r.incident_id) ?? out.set(r.incident_id, []).get(r.incident_id)!).push(r);
    return out;
  };
  const incidents = await tx.all<KpiIncident & { incident_id: string }>(`SELECT incident_id, ${INCIDENT_COLUMNS} FROM incidents`);
  const events = group(await tx.all<EventRow>(`SELECT incident_id, seq, at, kind, step, message, data FROM incident_events WHERE ${KPI_EVENT_KINDS} ORDER BY incident_id, seq`));
  const steps = group(await tx.all<{ incident_id: string; name: string; result: string | null }>('SELECT incident_id, name, result FROM steps'));
  const totals: Cells = new Map();
  for (const row of incidents) {
    const cells = incidentCells(row, events.get(row.incident_id) ?? [], steps.get(row.incident_id) ?? []);
    await tx.run('INSERT INTO incident_kpis (incident_id, cells) VALUES ($1, $2)', [row.incident_id, cellsToJson(cells)]);
    for (const [k, v] of cells) totals.set(k, (totals.get(k) ?? 0) + v);
  }
  await addCounters(tx, totals);
}

/** Every counter: a few dozen rows whatever the number of incidents. */
export async function readKpiCounters(db: SqlTx): Promise<Cells> {
  const rows = await db.all<{ metric: string; labels: string; value: number }>('SELECT metric, labels, value FROM kpi_counters');
  return new Map(rows.map((r) => [cellKey(r.metric, JSON.parse(r.labels) as Record<string, string>), Number(r.value)]));
}
