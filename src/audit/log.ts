// The tamper-evident audit log: an append-only SQLite table (better-sqlite3) in which every row
// stores sha256(prev_hash + canonical JSON of the entry), so editing, deleting or reordering any
// row breaks the chain at that row. UPDATE and DELETE are refused by triggers; `verify` finds
// what a person with write access to the file changed anyway, and names the first bad entry.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';

export const GENESIS = '0'.repeat(64);

/** One audited event: who did what, why, to which target, the state before/after, when. */
export interface AuditRecord {
  at: string;
  /** Null for events outside an incident (the kill switch). */
  incidentId: string | null;
  /** The incident timeline's seq: (incidentId, seq) is written once, however often it is offered. */
  seq: number | null;
  kind: string;
  who: string;
  what: string;
  why: string;
  target: string;
  before: string;
  after: string;
  data: unknown;
}

export interface StoredRecord extends AuditRecord {
  id: number;
  prevHash: string;
  hash: string;
}

export type VerifyResult =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; firstBad: { id: number; incidentId: string | null; seq: number | null; at: string; what: string }; problem: string };

/** JSON with object keys sorted at every level and no whitespace: the bytes that get hashed. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const hashedContent = (id: number, r: AuditRecord): string =>
  canonicalJson({
    id,
    at: r.at,
    incident: r.incidentId,
    seq: r.seq,
    kind: r.kind,
    who: r.who,
    what: r.what,
    why: r.why,
    target: r.target,
    before: r.before,
    after: r.after,
    data: r.data,
  });

export const entryHash = (prevHash: string, id: number, r: AuditRecord): string =>
  createHash('sha256').update(prevHash).update(hashedContent(id, r)).digest('hex');

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
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

/** Opens (creating if needed) the audit database; several processes may append (WAL + busy wait). */
export function openAuditDb(path: string, opts: { readonly?: boolean } = {}): Database {
  if (!opts.readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA);
  }
  return db;
}

interface Row {
  id: number;
  at: string;
  incident_id: string | null;
  seq: number | null;
  kind: string;
  who: string;
  what: string;
  why: string;
  target: string;
  before: string;
  after: string;
  data: string;
  prev_hash: string;
  hash: string;
}

const fromRow = (r: Row): StoredRecord => ({
  id: r.id,
  at: r.at,
  incidentId: r.incident_id,
  seq: r.seq,
  kind: r.kind,
  who: r.who,
  what: r.what,
  why: r.why,
  target: r.target,
  before: r.before,
  after: r.after,
  data: JSON.parse(r.data) as unknown,
  prevHash: r.prev_hash,
  hash: r.hash,
});

export function auditLog(db: Database) {
  const seen = db.prepare<[string, number], { id: number }>('SELECT id FROM audit_log WHERE incident_id = ? AND seq = ?');
  const last = db.prepare<[], { id: number; hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1');
  const insert = db.prepare(
    `INSERT INTO audit_log (id, at, incident_id, seq, kind, who, what, why, target, before, after, data, prev_hash, hash)
     VALUES (@id, @at, @incidentId, @seq, @kind, @who, @what, @why, @target, @before, @after, @data, @prevHash, @hash)`,
  );
  const setHead = db.prepare('INSERT INTO audit_head (one, last_id, hash) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash');
  // IMMEDIATE: take the write lock before reading the chain's end, so two writers never fork it.
  const appendAll = db.transaction((records: AuditRecord[]): number => {
    let written = 0;
    let tail = last.get() ?? { id: 0, hash: GENESIS };
    for (const raw of records) {
      const r = { ...raw, data: raw.data ?? null };
      if (r.incidentId !== null && r.seq !== null && seen.get(r.incidentId, r.seq)) continue;
      const id = tail.id + 1;
      const hash = entryHash(tail.hash, id, r);
      insert.run({ ...r, id, data: canonicalJson(r.data ?? null), prevHash: tail.hash, hash });
      tail = { id, hash };
      written += 1;
    }
    if (written > 0) setHead.run(tail.id, tail.hash);
    return written;
  });
  return {
    /** Appends the records not yet in the log; returns how many were written. */
    append: (records: AuditRecord[]): number => appendAll.immediate(records),
    entries(opts: { since?: string } = {}): StoredRecord[] {
      const rows = opts.since
        ? db.prepare<[string], Row>('SELECT * FROM audit_log WHERE at >= ? ORDER BY id').all(opts.since)
        : db.prepare<[], Row>('SELECT * FROM audit_log ORDER BY id').all();
      return rows.map(fromRow);
    },
    verify(): VerifyResult {
      const rows = db.prepare<[], Row>('SELECT * FROM audit_log ORDER BY id').all().map(fromRow);
      const head = db.prepare<[], { last_id: number; hash: string }>('SELECT last_id, hash FROM audit_head WHERE one = 1').get();
      return verifyChain(rows, head ? { id: head.last_id, hash: head.hash } : undefined);
    },
  };
}
export type AuditLog = ReturnType<typeof auditLog>;

/** Walks the chain from the start; the first row that does not hold is reported. */
export function verifyChain(rows: StoredRecord[], head?: { id: number; hash: string }): VerifyResult {
  const owner = new Map(rows.map((r) => [r.hash, r.id]));
  let prev = GENESIS;
  const bad = (r: StoredRecord, problem: string): VerifyResult => ({
    ok: false,
    entries: rows.length,
    firstBad: { id: r.id, incidentId: r.incidentId, seq: r.seq, at: r.at, what: r.what },
    problem,
  });
  for (const [i, r] of rows.entries()) {
    const expected = i + 1;
    if (r.id !== expected) {
      return bad(r, `entry #${expected} is missing (deleted): the log jumps from #${expected - 1} to #${r.id}`);
    }
    if (r.prevHash !== prev) {
      const follows = owner.get(r.prevHash);
      if (follows !== undefined) return bad(r, `entry #${r.id} is out of order: it was written after entry #${follows}, not #${r.id - 1}`);
      return bad(r, `entry #${r.id} does not link to entry #${r.id - 1}: an entry before it was deleted or replaced`);
    }
    if (entryHash(r.prevHash, r.id, r) !== r.hash) return bad(r, `entry #${r.id} was edited: its content no longer matches its hash`);
    prev = r.hash;
  }
  const lastRow = rows[rows.length - 1];
  if (head && (head.id !== rows.length || head.hash !== prev)) {
    const problem = `the log ends at entry #${rows.length} but was last written at #${head.id}: entries were removed from the end`;
    if (lastRow) return bad(lastRow, problem);
    return { ok: false, entries: 0, firstBad: { id: 1, incidentId: null, seq: null, at: '', what: '(empty log)' }, problem };
  }
  return { ok: true, entries: rows.length, head: prev };
}

// ---------------------------------------------------------------- export

const COLUMNS = ['id', 'at', 'incidentId', 'seq', 'kind', 'who', 'what', 'why', 'target', 'before', 'after', 'prevHash', 'hash'] as const;

export function toJsonl(records: StoredRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : '');
}

const csvField = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function toCsv(records: StoredRecord[]): string {
  const header = [...COLUMNS, 'data'].join(',');
  const lines = records.map((r) => [...COLUMNS.map((c) => csvField(r[c])), csvField(canonicalJson(r.data))].join(','));
  return [header, ...lines].join('\r\n') + '\r\n';
}
