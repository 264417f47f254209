// The tamper-evident audit log: an append-only SQLite table (better-sqlite3). Every row stores
// sha256(prev_hash + canonical JSON of the entry), so editing, deleting or reordering a row breaks
// the chain at that row; and, once the log is keyed, mac = HMAC-SHA256(key, prev mac + the same
// canonical JSON) with a key that is not in the database (src/audit/key.ts), so someone who can
// write the file cannot recompute a chain that verifies. Entries written before keying keep the
// plain hash only; the write-once `audit_meta` row records "keyed from #N" and the key's id.
// Signed checkpoints exported elsewhere (checkpoint.ts) catch truncation and a rewritten chain.
// UPDATE and DELETE are refused by triggers; `verify` (verify.ts) finds what a person with write
// access to the file changed anyway, and names the first bad entry.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { AuditKeyError, type AuditKey } from './key.js';
import { canonicalJson, entryHash, GENESIS, hashedContent, macLink, markerMac, type AuditRecord, type StoredRecord } from './chain.js';
import { verifyChain, type VerifyOptions, type VerifyResult } from './verify.js';

/** The write-once keying marker: entries from #keyedFrom on carry a MAC under key keyId. */
export interface KeyingMarker {
  keyedFrom: number;
  keyId: string;
  at: string;
  /** HMAC of the marker itself (markerMac), so it cannot be moved without the key. */
  mac: string;
}

/** The end of the log, as a checkpoint records it. */
export interface LogHead {
  seq: number;
  count: number;
  hash: string;
  mac: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  incident_id TEXT,
  seq INTEGER,
  kind TEXT NOT NULL,
  who TEXT NOT NULL,
  what TEXT NOT NULL,
  why TEXT NOT NULL,
  target TEXT NOT NULL,
  before TEXT NOT NULL,
  after TEXT NOT NULL,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (incident_id, seq)
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE TABLE IF NOT EXISTS audit_head (one INTEGER PRIMARY KEY CHECK (one = 1), last_id INTEGER NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_meta (one INTEGER PRIMARY KEY CHECK (one = 1), keyed_from INTEGER NOT NULL, key_id TEXT NOT NULL, at TEXT NOT NULL, mac TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_meta_no_update BEFORE UPDATE ON audit_meta
  BEGIN SELECT RAISE(ABORT, 'the audit keying marker is write-once'); END;
CREATE TRIGGER IF NOT EXISTS audit_meta_no_delete BEFORE DELETE ON audit_meta
  BEGIN SELECT RAISE(ABORT, 'the audit keying marker is write-once'); END;
`;

/** Opens (creating if needed) the audit database; several processes may append (WAL + busy wait). */
export function openAuditDb(path: string, opts: { readonly?: boolean } = {}): Database {
  if (!opts.readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA);
    // Logs created before keying existed get the MAC column (NULL for their old entries).
    const columns = db.prepare<[], { name: string }>('PRAGMA table_info(audit_log)').all();
    if (!columns.some((c) => c.name === 'mac')) db.exec('ALTER TABLE audit_log ADD COLUMN mac TEXT');
  }
  return db;
}

// Rows as stored: snake_case columns, data as JSON text; mac is absent in logs from before keying.
type Row = Omit<StoredRecord, 'incidentId' | 'prevHash' | 'data' | 'mac'> & { incident_id: string | null; prev_hash: string; data: string; mac?: string | null };

// Keys in the order of the record type (exports print them in this order).
const fromRow = ({ id, at, incident_id, prev_hash, data, hash, mac, ...r }: Row): StoredRecord => ({
  id,
  at,
  incidentId: incident_id,
  ...r,
  data: JSON.parse(data) as unknown,
  prevHash: prev_hash,
  hash,
  mac: mac ?? null,
});

const hasTable = (db: Database, name: string): boolean =>
  db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?").get(name)!.n > 0;

/** The keying marker, if the log was ever opened for writing with a key. */
export function keyingMarker(db: Database): KeyingMarker | undefined {
  if (!hasTable(db, 'audit_meta')) return undefined;
  const row = db.prepare<[], { keyed_from: number; key_id: string; at: string; mac: string }>('SELECT keyed_from, key_id, at, mac FROM audit_meta WHERE one = 1').get();
  return row ? { keyedFrom: row.keyed_from, keyId: row.key_id, at: row.at, mac: row.mac } : undefined;
}

/**
 * The log, for appending and reading. With a key, opening it for writing records the keying
 * marker (keyed from the next entry) if there is none yet — this is how an unkeyed log migrates —
 * and refuses a key other than the one the log was keyed with.
 */
export function auditLog(db: Database, opts: { key?: AuditKey | undefined } = {}) {
  const { key } = opts;
  if (key && !db.readonly) {
    db.transaction(() => {
      if (keyingMarker(db)) return;
      const lastId = db.prepare<[], { id: number }>('SELECT id FROM audit_log ORDER BY id DESC LIMIT 1').get()?.id ?? 0;
      const marker = { keyedFrom: lastId + 1, keyId: key.id, at: new Date().toISOString() };
      db.prepare('INSERT INTO audit_meta (one, keyed_from, key_id, at, mac) VALUES (1, ?, ?, ?, ?)').run(marker.keyedFrom, marker.keyId, marker.at, markerMac(key, marker));
    }).immediate();
    const marker = keyingMarker(db)!;
    if (marker.keyId !== key.id) {
      throw new AuditKeyError(`the audit log is keyed with key ${marker.keyId} (from #${marker.keyedFrom}), but the configured audit key is ${key.id}: configure the key it was written with`);
    }
  }
  const seen = db.prepare<[string, number], { id: number }>('SELECT id FROM audit_log WHERE incident_id = ? AND seq = ?');
  const last = db.prepare<[], Row>('SELECT * FROM audit_log ORDER BY id DESC LIMIT 1');
  const insert = db.readonly
    ? undefined
    : db.prepare(
        `INSERT INTO audit_log (id, at, incident_id, seq, kind, who, what, why, target, before, after, data, prev_hash, hash, mac)
         VALUES (@id, @at, @incidentId, @seq, @kind, @who, @what, @why, @target, @before, @after, @data, @prevHash, @hash, @mac)`,
      );
  const setHead = db.readonly ? undefined : db.prepare('INSERT INTO audit_head (one, last_id, hash) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash');
  // IMMEDIATE: take the write lock before reading the chain's end, so two writers never fork it.
  const appendAll = db.transaction((records: AuditRecord[]): number => {
    const marker = keyingMarker(db);
    if (marker && !key) throw new AuditKeyError(`the audit log is keyed (from #${marker.keyedFrom}, key ${marker.keyId}): appending needs the audit key (audit.keyFile / MEDIC_AUDIT_KEY_FILE)`);
    let written = 0;
    const lastRow = last.get();
    let tail = lastRow ? { id: lastRow.id, hash: lastRow.hash, mac: lastRow.mac ?? null } : { id: 0, hash: GENESIS, mac: null as string | null };
    for (const raw of records) {
      const r = { ...raw, data: raw.data ?? null };
      if (r.incidentId !== null && r.seq !== null && seen.get(r.incidentId, r.seq)) continue;
      const id = tail.id + 1;
      const hash = entryHash(tail.hash, id, r);
      const mac = key ? key.mac(macLink(tail), hashedContent(id, r)) : null;
      insert!.run({ ...r, id, data: canonicalJson(r.data ?? null), prevHash: tail.hash, hash, mac });
      tail = { id, hash, mac };
      written += 1;
    }
    if (written > 0) setHead!.run(tail.id, tail.hash);
    return written;
  });
  const rows = (): StoredRecord[] => db.prepare<[], Row>('SELECT * FROM audit_log ORDER BY id').all().map(fromRow);
  return {
    /** Appends the records not yet in the log; returns how many were written. */
    append: (records: AuditRecord[]): number => appendAll.immediate(records),
    entries(opts: { since?: string } = {}): StoredRecord[] {
      if (!opts.since) return rows();
      return db.prepare<[string], Row>('SELECT * FROM audit_log WHERE at >= ? ORDER BY id').all(opts.since).map(fromRow);
    },
    /** The last entry and the entry count (what a checkpoint records); undefined for an empty log. */
    head(): LogHead | undefined {
      const row = last.get();
      if (!row) return undefined;
      const { n } = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM audit_log').get()!;
      return { seq: row.id, count: n, hash: row.hash, mac: row.mac ?? null };
    },
    marker: (): KeyingMarker | undefined => keyingMarker(db),
    /** Checks the chain (and with a key, every MAC; with checkpoints, the signed heads). */
    verify(options: Omit<VerifyOptions, 'marker'> = {}): VerifyResult {
      const head = db.prepare<[], { last_id: number; hash: string }>('SELECT last_id, hash FROM audit_head WHERE one = 1').get();
      const marker = keyingMarker(db);
      return verifyChain(rows(), head ? { id: head.last_id, hash: head.hash } : undefined, { ...options, ...(marker ? { marker } : {}) });
    },
  };
}
export type AuditLog = ReturnType<typeof auditLog>;

export { canonicalJson, entryHash, GENESIS, hashedContent, macLink, markerMac, type AuditRecord, type StoredRecord } from './chain.js';
export { verifyChain, type VerifyResult } from './verify.js';
export { toCsv, toJsonl } from './export.js';
