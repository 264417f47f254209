// The audit log's anchoring, pure parts and an in-memory SQLite log: key derivation, keyed
// appends and the migration of an unkeyed log ("keyed from #N"), MAC verification, checkpoint
// parsing/verification, the checkpointer's triggers, CSV formula escaping, and the config rule
// that production logs need a key.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCheckpoints, signedBytes, startCheckpointer, takeCheckpoint, CheckpointsError, type Checkpoint } from '../../src/audit/checkpoint.js';
import { csvField } from '../../src/audit/export.js';
import { auditKeyFrom, checkpointVerifierFrom, AuditKeyError } from '../../src/audit/key.js';
import { auditLog, entryHash, openAuditDb, type AuditRecord } from '../../src/audit/log.js';
import { verifyCheckpoints } from '../../src/audit/verify.js';
import { ConfigSchema, loadConfig } from '../../src/config.js';

const material = (): string => randomBytes(32).toString('hex');

function record(i: number): AuditRecord {
  return { at: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(), incidentId: 'incident:x:1', seq: i, kind: 'action', who: 'medic', what: `step ${i}`, why: '', target: 't', before: '', after: 'ok', data: { i } };
}

describe('audit key', () => {
  it('is derived deterministically; the material never shows when the key is serialised', () => {
    const m = material();
    const a = auditKeyFrom(m);
    const b = auditKeyFrom(m);
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(b.id).toBe(a.id);
    expect(a.mac('x', 'y')).toBe(b.mac('x', 'y'));
    expect(auditKeyFrom(material()).id).not.toBe(a.id);
    expect(JSON.stringify({ key: a })).toBe(`{"key":{"auditKeyId":"${a.id}"}}`);
    // the public key verifies what the key signs, and nothing else
    const verifier = checkpointVerifierFrom(a.publicKeyPem);
    expect(verifier.id).toBe(a.id);
    expect(verifier.verify('data', a.sign('data'))).toBe(true);
    expect(verifier.verify('data!', a.sign('data'))).toBe(false);
    expect(verifier.verify('data', auditKeyFrom(material()).sign('data'))).toBe(false);
  });

  it('refuses short material, naming where it came from', () => {
    expect(() => auditKeyFrom('short', 'audit.keyFile (/k)')).toThrow(new AuditKeyError('audit.keyFile (/k): must be at least 32 characters (e.g. openssl rand -hex 32), got 5'));
    expect(() => checkpointVerifierFrom('not a key', '--public-key p')).toThrow(/--public-key p: not a PEM public key/);
  });
});

describe('keyed audit log', () => {
  it('migrates an unkeyed log: keyed from the next entry; old entries keep the plain chain', () => {
    const db = openAuditDb(':memory:');
    auditLog(db).append([record(1), record(2), record(3)]);
    const key = auditKeyFrom(material());
    const log = auditLog(db, { key });
    expect(log.marker()).toMatchObject({ keyedFrom: 4, keyId: key.id });
    log.append([record(4), record(5)]);
    const rows = log.entries();
    expect(rows.map((r) => r.mac === null)).toEqual([true, true, true, false, false]);
    expect(log.verify({ key })).toMatchObject({ ok: true, entries: 5, keyedFrom: 4, macs: 'checked' });
    expect(log.verify()).toMatchObject({ ok: true, macs: 'unchecked' });
    // the keying marker is write-once
    expect(() => db.exec('UPDATE audit_meta SET keyed_from = 9')).toThrow(/write-once/);
    expect(() => db.exec('DELETE FROM audit_meta')).toThrow(/write-once/);
    db.close();
  });

  it('refuses another key, and appending without the key', () => {
    const db = openAuditDb(':memory:');
    const key = auditKeyFrom(material());
    auditLog(db, { key }).append([record(1)]);
    const other = auditKeyFrom(material());
    expect(() => auditLog(db, { key: other })).toThrow(`the audit log is keyed with key ${key.id} (from #1), but the configured audit key is ${other.id}`);
    expect(() => auditLog(db).append([record(2)])).toThrow(/the audit log is keyed \(from #1, key [0-9a-f]{16}\): appending needs the audit key/);
    db.close();
  });

  it('a keying marker moved past the end (MACs nulled, to look unkeyed) is caught with the key: the marker carries its own MAC', () => {
    const db = openAuditDb(':memory:');
    const key = auditKeyFrom(material());
    auditLog(db, { key }).append([record(1), record(2), record(3)]);
    db.exec('DROP TRIGGER audit_meta_no_update; DROP TRIGGER audit_log_no_update; UPDATE audit_meta SET keyed_from = 4; UPDATE audit_log SET mac = NULL;');
    expect(auditLog(db).verify({ key })).toEqual({
      ok: false,
      entries: 3,
      firstBad: expect.objectContaining({ id: 3 }),
      problem: 'the keying marker was changed (its MAC does not verify under the audit key): it now says keyed from #4, so MAC checks were skipped before that',
    });
    db.close();
  });

  it('a rewritten unkeyed prefix shows at the first keyed entry (its MAC chains from the last plain hash)', () => {
    const db = openAuditDb(':memory:');
    auditLog(db).append([record(1), record(2)]);
    const key = auditKeyFrom(material());
    auditLog(db, { key }).append([record(3), record(4)]);
    db.exec('DROP TRIGGER audit_log_no_update');
    const rows = auditLog(db).entries();
    const h1 = entryHash(rows[0]!.hash, 2, { ...rows[1]!, who: 'mallory' });
    const h2 = entryHash(h1, 3, rows[2]!);
    const h3 = entryHash(h2, 4, rows[3]!);
    db.prepare("UPDATE audit_log SET who = 'mallory', hash = ? WHERE id = 2").run(h1);
    db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = 3').run(h1, h2);
    db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = 4').run(h2, h3);
    db.prepare('UPDATE audit_head SET hash = ?').run(h3);
    expect(auditLog(db).verify()).toMatchObject({ ok: true }); // the plain chain is consistent
    expect(auditLog(db).verify({ key })).toMatchObject({ ok: false, firstBad: { id: 3 } });
    db.close();
  });
});

describe('checkpoints', () => {
  function keyedLog(n: number) {
    const db = openAuditDb(':memory:');
    const key = auditKeyFrom(material());
    const log = auditLog(db, { key });
    log.append(Array.from({ length: n }, (_, i) => record(i + 1)));
    return { db, key, log };
  }

  it('a checkpoint is signed over every other field; the log matches it, a shorter one does not', () => {
    const { db, key, log } = keyedLog(4);
    const cp = takeCheckpoint(log, key, 'entries', new Date('2026-12-01T00:00:00Z'))!;
    expect(cp).toMatchObject({ v: 1, seq: 4, count: 4, keyedFrom: 1, keyId: key.id, at: '2026-12-01T00:00:00.000Z', reason: 'entries' });
    expect(key.verify(signedBytes(cp), cp.sig)).toBe(true);
    expect(key.verify(signedBytes({ ...cp, seq: 3 }), cp.sig)).toBe(false);
    const rows = log.entries();
    expect(verifyCheckpoints(rows, log.marker(), [cp], key)).toEqual({ matched: 1, last: { seq: 4, at: cp.at } });
    expect(verifyCheckpoints(rows.slice(0, 2), log.marker(), [cp], key)).toMatchObject({ problem: expect.stringContaining('entries #3–#4 were removed (truncated)') });
    db.close();
  });

  it('parses JSON lines, a JSON array and lines copied from the Slack message; a bad line fails the read', () => {
    const { db, key, log } = keyedLog(2);
    const cp = takeCheckpoint(log, key, 'interval')!;
    db.close();
    const line = JSON.stringify(cp);
    expect(parseCheckpoints(`${line}\n${line}\n`, 'f')).toHaveLength(2);
    expect(parseCheckpoints(JSON.stringify([cp]), 'u')).toEqual([cp]);
    expect(parseCheckpoints(`medic audit checkpoint: entry #2 (2 entries, key ${key.id}, interval)\n\`\`\`${line}\`\`\``, 'slack')).toEqual([cp]);
    expect(() => parseCheckpoints(`${line}\n{"v":1,"seq":"x"}\n`, 'f')).toThrow(CheckpointsError);
    expect(() => parseCheckpoints(`${line}\n{"v":1,"seq":"x"}\n`, 'f')).toThrow(/^f line 2: /);
    expect(() => parseCheckpoints('garbage\n', 'f')).toThrow('f line 1: not a checkpoint: garbage');
  });

  it('the checkpointer writes at start, every N entries and on shutdown; never the same head twice', async () => {
    const { db, key, log } = keyedLog(2);
    const seen: Checkpoint[] = [];
    const cpr = startCheckpointer({ log, key, sinks: [{ name: 'mem', write: async (cp) => void seen.push(cp) }], everyEntries: 3, intervalMs: 3_600_000, onError: (m) => { throw new Error(m); } });
    await cpr.checkpoint('interval'); // waits for the queued start checkpoint; nothing new since
    expect(seen.map((c) => [c.reason, c.seq])).toEqual([['start', 2]]);
    log.append([record(3), record(4)]);
    cpr.afterAppend(); // 2 new < 3
    log.append([record(5)]);
    cpr.afterAppend(); // 3 new
    await cpr.stop();
    expect(seen.map((c) => [c.reason, c.seq])).toEqual([['start', 2], ['entries', 5]]);
    log.append([record(6)]);
    const last = await cpr.checkpoint('shutdown');
    expect(last?.seq).toBe(6);
    db.close();
  });

  it('a failing sink is reported and does not stop the others', async () => {
    const { db, key, log } = keyedLog(1);
    const errors: string[] = [];
    const seen: Checkpoint[] = [];
    const cpr = startCheckpointer({
      log,
      key,
      sinks: [{ name: 'down', write: () => Promise.reject(new Error('HTTP 503')) }, { name: 'mem', write: async (cp) => void seen.push(cp) }],
      everyEntries: 1,
      intervalMs: 3_600_000,
      onError: (m) => errors.push(m),
    });
    await cpr.stop();
    expect(errors).toEqual(['audit checkpoint #1 to down failed: HTTP 503']);
    expect(seen).toHaveLength(1);
    db.close();
  });
});

describe('CSV cells', () => {
  it.each([
    ['=HYPERLINK("http://evil","x")', `"'=HYPERLINK(""http://evil"",""x"")"`],
    ['+cmd|/C calc', `"'+cmd|/C calc"`],
    ['-2+3', `"'-2+3"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\t=1', `"'\t=1"`],
    ['\r=1', `"'\r=1"`],
    ['plain', 'plain'],
    ['a, b', '"a, b"'],
    ['say "hi"', '"say ""hi"""'],
  ])('%j → %s', (value, cell) => {
    expect(csvField(value)).toBe(cell);
  });
});

describe('config', () => {
  it('production needs a key when audit.path is set; demo does not; key and keyFile exclude each other', () => {
    expect(() => loadConfig({ MEDIC_AUDIT_PATH: '/var/lib/medic/audit.db' })).toThrow(/audit\.keyFile: required in production mode when audit\.path is set/);
    expect(loadConfig({ MEDIC_AUDIT_PATH: '/a.db', MEDIC_AUDIT_KEY_FILE: '/k' }).audit).toMatchObject({ path: '/a.db', keyFile: '/k', checkpoints: { everyEntries: 100, intervalSeconds: 300 } });
    expect(ConfigSchema.parse({ mode: 'demo', audit: { path: '/a.db' } }).audit?.keyFile).toBeUndefined();
    expect(() => loadConfig({ MEDIC_AUDIT_PATH: '/a.db', MEDIC_AUDIT_KEY_FILE: '/k', MEDIC_AUDIT_KEY: 'x'.repeat(32) })).toThrow(/audit\.key: set key or keyFile, not both/);
    expect(() => loadConfig({ MEDIC_AUDIT_PATH: '/a.db', MEDIC_AUDIT_KEY: 'short' })).toThrow(/audit\.key: the audit key must be at least 32 characters/);
  });
});
