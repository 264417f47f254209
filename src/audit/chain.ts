// The audit chain's primitives: the canonical bytes of an entry, its SHA-256 chain hash and the
// value its HMAC chains from. Shared by the writer (log.ts), the verifier and the exports.
import { createHash } from 'node:crypto';

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
  /** HMAC chain value; null for entries written before the log was keyed. */
  mac: string | null;
}

/** JSON with object keys sorted at every level and no whitespace: the bytes that get hashed. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The canonical bytes of one entry that both the hash and the MAC cover. */
export const hashedContent = (id: number, r: AuditRecord): string =>
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

/**
 * The value entry #id's MAC chains from: the previous entry's MAC, or (for the first keyed entry)
 * its plain hash, which binds the unkeyed prefix into the keyed chain; GENESIS for entry #1.
 */
export const macLink = (prev: { hash: string; mac: string | null } | undefined): string => (prev ? (prev.mac ?? prev.hash) : GENESIS);

/** The keying marker's own MAC: moving "keyed from #N" (to skip MAC checks) needs the key. */
export const markerMac = (key: { mac(prev: string, content: string): string }, m: { keyedFrom: number; keyId: string; at: string }): string =>
  key.mac('medic audit keying marker', canonicalJson({ keyedFrom: m.keyedFrom, keyId: m.keyId, at: m.at }));
