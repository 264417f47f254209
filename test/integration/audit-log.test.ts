// The tamper-evident audit log on a real SQLite file: the hash chain, append-only triggers,
// idempotent appends, and `medic audit verify|export` (the real CLI in a child process) catching
// an edit, a deletion and a reorder, each time naming the first bad entry.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { auditLog, entryHash, openAuditDb, type AuditRecord } from '../../src/audit/log.js';
import { ROOT } from '../support/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'medic-audit-'));
let files = 0;

function record(i: number, extra: Partial<AuditRecord> = {}): AuditRecord {
  return {
    at: new Date(Date.UTC(2026, 10, 25, 12, 0, i)).toISOString(),
    incidentId: 'incident:demo:0123456789ab:abcdef01',
    seq: i,
    kind: 'action',
    who: 'medic',
    what: `step ${i} finished`,
    why: 'playbook demo',
    target: 'checkout',
    before: 'started',
    after: 'succeeded (HTTP 200)',
    data: { message: `entry ${i}`, nested: { b: 2, a: 1 } },
    ...extra,
  };
}

/** A fresh log file with `n` entries; returns its path. */
function logWith(n: number): string {
  const path = join(dir, `audit-${++files}.db`);
  const db = openAuditDb(path);
  auditLog(db).append(Array.from({ length: n }, (_, i) => record(i)));
  db.close();
  return path;
}

/** Someone with write access to the file: drops the triggers and changes rows directly. */
function tamper(path: string, sql: string): void {
  const db = openAuditDb(path);
  db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  db.exec(sql);
  db.close();
}

const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

/** A 6-entry log tampered with by `sql`, checked by `medic audit verify`: it must fail (exit 1); its report. */
async function verifyTampered(sql: string): Promise<string> {
  const path = logWith(6);
  tamper(path, sql);
  const r = await cli('audit', 'verify', '--file', path);
  expect(r.code).toBe(1);
  return r.stdout;
}

describe('audit log (SQLite)', () => {
  it('appends once per (incident, seq), refuses UPDATE and DELETE, and verifies clean', () => {
    const db = openAuditDb(join(dir, 'idem.db'));
    const log = auditLog(db);
    expect(log.append([record(0), record(1)])).toBe(2);
    expect(log.append([record(1), record(2)])).toBe(1); // a retried publish hands entry 1 again
    expect(log.append([{ ...record(0), incidentId: null, seq: null, kind: 'kill-switch', who: 'root' }])).toBe(1);
    expect(log.append([{ ...record(0), incidentId: null, seq: null, kind: 'kill-switch', who: 'root' }])).toBe(1); // not incident-keyed: each change counts
    const rows = log.entries();
    expect(rows.map((r) => [r.id, r.seq])).toEqual([[1, 0], [2, 1], [3, 2], [4, null], [5, null]]);
    expect(rows[1]!.prevHash).toBe(rows[0]!.hash);
    expect(() => db.exec("UPDATE audit_log SET who = 'mallory' WHERE id = 1")).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM audit_log WHERE id = 1')).toThrow(/append-only/);
    expect(log.verify()).toMatchObject({ ok: true, entries: 5, head: rows[4]!.hash });
    db.close();
  });

  it('medic audit verify passes on a clean log', async () => {
    const r = await cli('audit', 'verify', '--file', logWith(6));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^audit log OK: 6 entries, hash chain intact \(head [0-9a-f]{64}\)/);
  });

  it('detects an edited entry and names it', async () => {
    const out = await verifyTampered("UPDATE audit_log SET who = 'mallory' WHERE id = 3");
    expect(out).toContain('audit log TAMPERED: entry #3 was edited: its content no longer matches its hash');
    expect(out).toContain('first bad entry: #3 (2026-11-25T12:00:02.000Z, incident incident:demo:0123456789ab:abcdef01 seq 2): step 2 finished');
  });

  it('detects an edit whose hash was recomputed, at the next entry', () => {
    const path = logWith(6);
    const db = openAuditDb(path);
    const log = auditLog(db);
    const [, , third] = log.entries();
    db.close();
    const forged = entryHash(third!.prevHash, 3, { ...third!, after: 'failed' });
    tamper(path, `UPDATE audit_log SET after = 'failed', hash = '${forged}' WHERE id = 3`);
    const check = openAuditDb(path, { readonly: true });
    const r = auditLog(check).verify();
    check.close();
    expect(r).toMatchObject({ ok: false, firstBad: { id: 4 } });
    expect(!r.ok && r.problem).toBe('entry #4 does not link to entry #3: an entry before it was deleted or replaced');
  });

  it('detects a deleted entry, in the middle and at the end', async () => {
    const middle = await verifyTampered('DELETE FROM audit_log WHERE id = 4');
    expect(middle).toContain('entry #4 is missing (deleted): the log jumps from #3 to #5');
    expect(middle).toContain('first bad entry: #5');

    const end = await verifyTampered('DELETE FROM audit_log WHERE id = 6');
    expect(end).toContain('the log ends at entry #5 but was last written at #6: entries were removed from the end');
  });

  it('detects reordered entries', async () => {
    const out = await verifyTampered('UPDATE audit_log SET id = -1 WHERE id = 3; UPDATE audit_log SET id = 3 WHERE id = 4; UPDATE audit_log SET id = 4 WHERE id = -1;');
    expect(out).toContain('entry #3 is out of order: it was written after entry #4, not #2');
    expect(out).toContain('first bad entry: #3');
  });

  it('medic audit export --since … --format jsonl|csv', async () => {
    const path = join(dir, 'export.db');
    const db = openAuditDb(path);
    auditLog(db).append([
      record(0),
      record(1),
      record(2, { why: 'denied: "not now", try later\nafter the freeze', who: 'bob', kind: 'approval' }),
    ]);
    db.close();
    const jsonl = await cli('audit', 'export', '--file', path, '--since', '2026-11-25T12:00:01Z', '--format', 'jsonl');
    expect(jsonl.code).toBe(0);
    const lines = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.id)).toEqual([2, 3]);
    expect(lines[1]).toMatchObject({ who: 'bob', kind: 'approval', seq: 2, target: 'checkout', data: { nested: { a: 1, b: 2 } } });
    expect(lines[1]!.hash).toMatch(/^[0-9a-f]{64}$/);

    const csv = await cli('audit', 'export', '--file', path, '--format', 'csv');
    expect(csv.code).toBe(0);
    const rows = csv.stdout.split('\r\n');
    expect(rows[0]).toBe('id,at,incidentId,seq,kind,who,what,why,target,before,after,prevHash,hash,mac,data');
    expect(rows[1]).toMatch(/^1,2026-11-25T12:00:00.000Z,incident:demo:0123456789ab:abcdef01,0,action,medic,step 0 finished,playbook demo,checkout,started,succeeded \(HTTP 200\),0{64},[0-9a-f]{64},,"\{""message"":""entry 0"",""nested"":\{""a"":1,""b"":2\}\}"$/);
    expect(csv.stdout).toContain('"denied: ""not now"", try later\nafter the freeze"');

    const bad = await cli('audit', 'export', '--file', path, '--format', 'xml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format must be jsonl or csv');
  });
});
