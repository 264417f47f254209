// Timeline rows (incident_events) ⇄ typed timeline entries. Rows written before the typed union
// are upgraded once, in place, by upgradeStoredEvents (migration 5, and before the KPI backfill of
// migration 4 on older stores); rowToEntry reads either shape through the schema.
import { kindsOf, type TimelineEntry } from '../../workflows/contracts.js';
import { isLegacyEntry, readTimelineEntry, upgradeLegacyEntry } from '../../workflows/contracts-timeline-legacy.js';
import type { SqlTx } from './sql.js';

export interface EventRow {
  incident_id: string;
  seq: number;
  at: number;
  kind: string;
  step: number | null;
  message: string;
  data: string | null;
}

/** The row's columns as an entry-shaped object (PostgreSQL returns BIGINT columns as strings). */
function rawOf(r: EventRow): Record<string, unknown> {
  let data: unknown;
  try {
    data = r.data === null || r.data === undefined ? undefined : JSON.parse(r.data);
  } catch (err) {
    throw new Error(`incident_events ${r.incident_id} #${r.seq}: data is not JSON: ${(err as Error).message}`);
  }
  return { seq: Number(r.seq), at: Number(r.at), kind: r.kind, message: r.message, ...(r.step !== null && r.step !== undefined ? { step: Number(r.step) } : {}), ...(data !== undefined ? { data } : {}) };
}

/** A stored row as a typed entry; a row that fits neither shape throws, naming the row and the field. */
export function rowToEntry(r: EventRow): TimelineEntry {
  try {
    return readTimelineEntry(rawOf(r));
  } catch (err) {
    throw new Error(`incident_events ${r.incident_id} #${r.seq}: ${(err as Error).message}`, { cause: err });
  }
}

/** The columns an entry is stored in. */
export const entryColumns = (e: TimelineEntry): [string, number | null, string, string] => [e.kind, e.step ?? null, e.message, JSON.stringify(e.data)];

/** The kinds the approval and action KPIs read (src/store/kpis.ts), as an SQL list. */
export const KPI_KINDS_SQL = `kind IN (${kindsOf('approval', 'action').map((k) => `'${k}'`).join(', ')})`;

/** Rewrites rows from before the typed union as typed entries (same seq, time, step and message). */
export async function upgradeStoredEvents(tx: SqlTx): Promise<number> {
  const rows = await tx.all<EventRow>(
    `SELECT incident_id, seq, at, kind, step, message, data FROM incident_events
     WHERE kind IN ('alert', 'gate', 'lock', 'approval', 'action', 'verification', 'escalation', 'control') OR (kind = 'resolution' AND data IS NULL)`,
  );
  let n = 0;
  for (const r of rows) {
    const raw = rawOf(r);
    if (!isLegacyEntry(raw)) continue;
    let e: TimelineEntry;
    try {
      e = upgradeLegacyEntry(raw);
    } catch (err) {
      throw new Error(`incident_events ${r.incident_id} #${r.seq}: ${(err as Error).message}`, { cause: err });
    }
    const [kind, , , data] = entryColumns(e);
    n += await tx.run('UPDATE incident_events SET kind = $1, data = $2 WHERE incident_id = $3 AND seq = $4', [kind, data, r.incident_id, r.seq]);
  }
  return n;
}
