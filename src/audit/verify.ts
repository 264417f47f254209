// Verification of the audit log: the SHA-256 chain (anyone can check it), the HMAC chain (needs
// the audit key; names the exact first forged entry even when every later hash was recomputed),
// the keying marker, and the exported signed checkpoints (need only the public key; catch a
// rewritten chain up to the last checkpoint, and truncation). The first problem is reported.
import { GENESIS, hashedContent, macLink, markerMac, entryHash, type StoredRecord } from './chain.js';
import { signedBytes, type Checkpoint } from './checkpoint.js';
import type { AuditKey, CheckpointVerifier } from './key.js';

export interface BadEntry {
  id: number;
  incidentId: string | null;
  seq: number | null;
  at: string;
  what: string;
}

export interface VerifyOptions {
  /** The log's keying marker (read from the database). */
  marker?: { keyedFrom: number; keyId: string; at: string; mac: string };
  /** With the audit key, every MAC is checked. */
  key?: AuditKey | undefined;
  /** Exported checkpoints to check the log against, and the key that signed them. */
  checkpoints?: { list: Checkpoint[]; verifier: CheckpointVerifier } | undefined;
}

export type VerifyResult =
  | {
      ok: true;
      entries: number;
      head: string;
      mac: string | null;
      keyedFrom: number | null;
      keyId: string | null;
      /** checked: every MAC verified with the key; unchecked: no key given; unkeyed: no MACs. */
      macs: 'checked' | 'unchecked' | 'unkeyed';
      checkpoints: { matched: number; last?: { seq: number; at: string } };
    }
  | { ok: false; entries: number; firstBad?: BadEntry; problem: string };

const entryOf = (r: StoredRecord): BadEntry => ({ id: r.id, incidentId: r.incidentId, seq: r.seq, at: r.at, what: r.what });

/** Walks the chain from the start; the first row that does not hold is reported. */
export function verifyChain(rows: StoredRecord[], head?: { id: number; hash: string }, opts: VerifyOptions = {}): VerifyResult {
  const owner = new Map(rows.map((r) => [r.hash, r.id]));
  const bad = (r: StoredRecord | undefined, problem: string): VerifyResult => ({ ok: false, entries: rows.length, ...(r ? { firstBad: entryOf(r) } : {}), problem });
  const { marker, key } = opts;
  const keyedFrom = marker?.keyedFrom ?? null;
  const keyNote = key && marker && marker.keyId !== key.id ? ` (the log's keying marker names key ${marker.keyId}; the key given is ${key.id})` : '';
  let prev = GENESIS;
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
    const keyed = keyedFrom !== null && r.id >= keyedFrom;
    if (!keyed && r.mac !== null) {
      return bad(r, keyedFrom === null ? `entry #${r.id} carries a MAC but the log has no keying marker: the marker was removed` : `entry #${r.id} carries a MAC but the keying marker says the log is keyed only from #${keyedFrom}: the marker was changed`);
    }
    if (keyed && r.mac === null) return bad(r, `entry #${r.id} has no MAC although the log is keyed from #${keyedFrom}: its MAC was stripped`);
    if (keyed && key && key.mac(macLink(rows[i - 1]), hashedContent(r.id, r)) !== r.mac) {
      return bad(r, `entry #${r.id} was forged: its MAC does not verify under the audit key, so it (or an entry before it) was rewritten by someone without the key${keyNote}`);
    }
    prev = r.hash;
  }
  const lastRow = rows[rows.length - 1];
  if (head && (head.id !== rows.length || head.hash !== prev)) {
    const problem = `the log ends at entry #${rows.length} but was last written at #${head.id}: entries were removed from the end`;
    if (lastRow) return bad(lastRow, problem);
    return { ok: false, entries: 0, firstBad: { id: 1, incidentId: null, seq: null, at: '', what: '(empty log)' }, problem };
  }
  if (key && !marker) {
    return bad(rows[0], `the log has no keying marker although an audit key was given: it was never written with a key, or the marker and every MAC were removed`);
  }
  if (key && marker && marker.keyId !== key.id) {
    return bad(undefined, `the log's keying marker names key ${marker.keyId} but its MACs verify under the key given (${key.id}): the marker was rewritten`);
  }
  if (key && marker && markerMac(key, marker) !== marker.mac) {
    return bad(rows[Math.min(marker.keyedFrom, rows.length) - 1], `the keying marker was changed (its MAC does not verify under the audit key): it now says keyed from #${marker.keyedFrom}, so MAC checks were skipped before that`);
  }
  const checked = opts.checkpoints ? verifyCheckpoints(rows, marker, opts.checkpoints.list, opts.checkpoints.verifier) : { matched: 0 };
  if ('problem' in checked) return bad(checked.at, checked.problem);
  return {
    ok: true,
    entries: rows.length,
    head: prev,
    mac: lastRow?.mac ?? null,
    keyedFrom,
    keyId: marker?.keyId ?? null,
    macs: keyedFrom === null ? 'unkeyed' : key ? 'checked' : 'unchecked',
    checkpoints: checked,
  };
}

type CheckpointsResult = { matched: number; last?: { seq: number; at: string } } | { problem: string; at?: StoredRecord };

/**
 * Each checkpoint must be signed by the verifier's key and match the log at its seq: the hash,
 * the MAC and the keying marker. The chain hashes before a checkpoint are fixed by its head, so a
 * rewrite anywhere up to it shows — between the last checkpoint that matched and this one.
 */
export function verifyCheckpoints(rows: StoredRecord[], marker: { keyedFrom: number; keyId: string } | undefined, list: Checkpoint[], verifier: CheckpointVerifier): CheckpointsResult {
  const sorted = [...list].sort((a, b) => a.seq - b.seq || a.at.localeCompare(b.at));
  let lastGood = 0;
  let last: { seq: number; at: string } | undefined;
  for (const cp of sorted) {
    const name = `the checkpoint of ${cp.at} (entry #${cp.seq})`;
    if (cp.keyId !== verifier.id) return { problem: `${name} was signed by key ${cp.keyId}, not by the log's key ${verifier.id}: it is not this log's checkpoint, or it was forged` };
    if (!verifier.verify(signedBytes(cp), cp.sig)) return { problem: `${name} has an invalid signature under key ${verifier.id}: it was forged or altered` };
    if (!marker || marker.keyedFrom !== cp.keyedFrom) {
      const at = rows[Math.min(cp.keyedFrom, marker?.keyedFrom ?? cp.keyedFrom) - 1];
      return { problem: `the log's keying marker says ${marker ? `keyed from #${marker.keyedFrom}` : 'never keyed'} but ${name} recorded keyed from #${cp.keyedFrom}: the marker was changed to skip MAC checks`, ...(at ? { at } : {}) };
    }
    if (cp.seq > rows.length) {
      return { problem: `the log ends at entry #${rows.length} but ${name} recorded ${cp.count} entries: entries #${rows.length + 1}–#${cp.seq} were removed (truncated)`, ...(rows.length > 0 ? { at: rows[rows.length - 1]! } : {}) };
    }
    const row = rows[cp.seq - 1]!;
    if (row.hash !== cp.head || row.mac !== cp.mac) {
      const first = rows[lastGood]!;
      return { problem: `entries #${lastGood + 1}–#${cp.seq} do not match ${name}: the chain was rewritten (the first forged entry is one of these)`, at: first };
    }
    lastGood = cp.seq;
    last = { seq: cp.seq, at: cp.at };
  }
  return { matched: sorted.length, ...(last ? { last } : {}) };
}
