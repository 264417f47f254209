// Attack: someone with write access to the audit log's SQLite file rewrites history. A real
// incident goes through the real intake (an alert whose service label is a spreadsheet formula),
// a real worker and the real audit sink, keyed and checkpointed the way src/worker.ts sets it up
// (openAudit), with checkpoints exported to a JSONL file and to a webhook. Then, as the attacker,
// with better-sqlite3 on a copy of the file: (a) edit one entry and recompute every later hash
// (and "MAC") with plain SHA-256, (b) cut the last entries (fixing the head row too), (c) rewrite
// with a key of one's own (re-keyed chain, marker and even a self-signed checkpoint), (c') strip
// the keying. The real CLI (`medic audit verify`) must exit non-zero naming the first forged
// entry (with the key) or the checkpoint interval (auditor with the public key only), and pass
// the untouched log. The CSV export of the formula label is escaped.
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditSink } from '../../activities/audit.js';
import { signedBytes, type Checkpoint } from '../../src/audit/checkpoint.js';
import { auditKeyFrom } from '../../src/audit/key.js';
import { auditLog, entryHash, GENESIS, hashedContent, openAuditDb, type StoredRecord } from '../../src/audit/log.js';
import { openAudit, type OpenedAudit } from '../../src/audit/setup.js';
import { runMedicCli } from '../support/cli.js';
import { demoPlaybook } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, TOKENS, type Medic } from '../support/medic.js';

const dir = mkdtempSync(join(tmpdir(), 'medic-audit-tamper-'));
const keyFile = join(dir, 'audit.key');
const publicKeyFile = join(dir, 'audit.pub');
const checkpointsFile = join(dir, 'checkpoints', 'audit.jsonl');
const pristine = join(dir, 'audit.db');
const FORMULA = '=HYPERLINK("http://evil.example/x","click")';

let medic: Medic;
let audit: OpenedAudit;
let receiver: Server;
let receiverUrl: string;
let stopped = false;
const posted: unknown[] = [];
const sinkErrors: string[] = [];

beforeAll(async () => {
  writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  // A checkpoint receiver: POST stores, GET lists (what `verify --checkpoint URL` reads).
  receiver = createServer((req, res) => {
    if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(posted));
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posted.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/checkpoints`;

  audit = openAudit(
    { mode: 'production', audit: { path: pristine, keyFile, checkpoints: { file: checkpointsFile, webhookUrl: receiverUrl, everyEntries: 3, intervalSeconds: 3600 } } },
    { checkpoints: { onError: (m) => sinkErrors.push(m) } },
  );
  medic = await startMedic({ sinks: [createAuditSink(audit.db, { key: audit.key, checkpointer: audit.checkpointer })], audit: audit.log });
  medic.playbooks.push(demoPlaybook(medic.demo.url, { name: 'tamper-demo' }));

  // The hostile alert, through the real intake; the incident heals and is audited.
  medic.demo.state.fault = 'outage';
  const res = await medic.postAlerts('firing', { alertname: 'DemoServiceDown', service: FORMULA, severity: 'critical' });
  expect(res.status).toBe(202);
  const final = await medic.waitFor(await incidentIdFrom(res), (s) => s.status === 'resolved' || s.status === 'escalated', 60_000);
  expect(final.status).toBe('resolved');
  // Kill-switch changes through the operator API: entries outside incidents, written by the server.
  expect((await medic.api('POST', '/api/pause', TOKENS.admin, { reason: 'maintenance' })).status).toBe(200);
  expect((await medic.api('POST', '/api/resume', TOKENS.admin, {})).status).toBe(200);
  await medic.stop();
  stopped = true;
  await audit.close(); // the shutdown checkpoint; the file is complete (WAL merged)
  const pub = await runMedicCli(['audit', 'public-key', '--key-file', keyFile]);
  expect(pub.code).toBe(0);
  writeFileSync(publicKeyFile, pub.out);
}, 180_000);

afterAll(async () => {
  if (medic && !stopped) await medic.stop();
  receiver?.close();
});

let copies = 0;
/** A copy of the untouched log for one attack. */
function copy(): string {
  const path = join(dir, `attacked-${++copies}.db`);
  copyFileSync(pristine, path);
  return path;
}

function rowsOf(path: string): StoredRecord[] {
  const db = openAuditDb(path, { readonly: true });
  try {
    return auditLog(db).entries();
  } finally {
    db.close();
  }
}

/** The attacker's own connection: triggers dropped, raw SQL. */
function attackerDb(path: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(path);
  db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete; DROP TRIGGER IF EXISTS audit_meta_no_update; DROP TRIGGER IF EXISTS audit_meta_no_delete;');
  return db;
}

const sha256 = (...parts: string[]): string => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

/**
 * Edits entry #id and recomputes the chain from there on, consistently: prev_hash, hash, the MAC
 * column (with `mac`), and the head row — everything the file holds.
 */
function rewrite(path: string, id: number, edit: Partial<StoredRecord>, mac: (prev: string, content: string) => string | null): void {
  const rows = rowsOf(path);
  const db = attackerDb(path);
  const update = db.prepare('UPDATE audit_log SET who = ?, what = ?, after = ?, prev_hash = ?, hash = ?, mac = ? WHERE id = ?');
  let prevHash = id === 1 ? GENESIS : rows[id - 2]!.hash;
  let prevMac = id === 1 ? GENESIS : (rows[id - 2]!.mac ?? rows[id - 2]!.hash);
  for (const r of rows.slice(id - 1)) {
    const changed = r.id === id ? { ...r, ...edit } : r;
    const hash = entryHash(prevHash, r.id, changed);
    const m = mac(prevMac, hashedContent(r.id, changed));
    update.run(changed.who, changed.what, changed.after, prevHash, hash, m, r.id);
    prevHash = hash;
    prevMac = m ?? hash;
  }
  db.prepare('UPDATE audit_head SET last_id = ?, hash = ? WHERE one = 1').run(rows.length, prevHash);
  db.close();
}

const withKey = { MEDIC_AUDIT_KEY_FILE: keyFile };
const verify = (path: string, extra: string[] = [], env: Record<string, string> = {}) => runMedicCli(['audit', 'verify', '--file', path, ...extra], env);

describe('audit log anchoring against someone who can write the SQLite file', () => {
  it('the incident, the pauses and their checkpoints were written; every checkpoint sink got them', () => {
    const rows = rowsOf(pristine);
    expect(rows.length).toBeGreaterThan(8);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.mac ?? ''))).toBe(true); // keyed from #1
    expect(rows.filter((r) => r.kind === 'kill-switch').map((r) => r.after)).toEqual(['paused', 'running']);
    const file = readFileSync(checkpointsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Checkpoint);
    // every `everyEntries` appends (checked per publish) and one on shutdown
    expect(file.map((c) => c.reason)).toContain('entries');
    expect(file.map((c) => c.seq)).toEqual([...file.map((c) => c.seq)].sort((a, b) => a - b));
    expect(file[file.length - 1]).toMatchObject({ seq: rows.length, count: rows.length, head: rows[rows.length - 1]!.hash, mac: rows[rows.length - 1]!.mac, keyedFrom: 1, reason: 'shutdown' });
    expect(posted).toEqual(file);
    expect(sinkErrors).toEqual([]);
    // the key never reaches the file, the checkpoints or the public key output
    const secret = readFileSync(keyFile, 'utf8').trim();
    for (const text of [readFileSync(pristine).toString('latin1'), readFileSync(checkpointsFile, 'utf8'), readFileSync(publicKeyFile, 'utf8')]) expect(text).not.toContain(secret);
  });

  it('(d) the untouched log verifies: with the key (every MAC), and for an auditor with the public key only, against the file and the URL', async () => {
    const path = copy();
    const keyed = await verify(path, ['--checkpoint', checkpointsFile], withKey);
    expect(keyed.code).toBe(0);
    expect(keyed.out).toMatch(/^audit log OK: \d+ entries, hash chain intact/);
    expect(keyed.out).toMatch(/HMAC-keyed from #1 \(key [0-9a-f]{16}\): every MAC verified/);
    expect(keyed.out).toMatch(/matches \d+ signed checkpoints from .*audit\.jsonl \(last: #\d+ at /);
    const auditor = await verify(path, ['--checkpoint', receiverUrl, '--public-key', publicKeyFile]);
    expect(auditor.code).toBe(0);
    expect(auditor.out).toContain('MACs not checked');
    expect(auditor.out).toContain(`signed checkpoints from ${receiverUrl}`);
  });

  it('(a) one entry edited, every later hash recomputed with plain SHA-256: the forged entry is named', async () => {
    const path = copy();
    const rows = rowsOf(path);
    const action = rows.find((r) => r.kind === 'action' && r.after.startsWith('succeeded'))!;
    rewrite(path, action.id, { who: 'mallory', after: 'failed' }, (prev, content) => sha256(prev, content));

    // The old protection alone (a plain hash chain, no key, no checkpoints) is fooled:
    const plain = await verify(path);
    expect(plain.code).toBe(0);
    expect(plain.out).toContain('MACs not checked');

    const keyed = await verify(path, ['--checkpoint', checkpointsFile], withKey);
    expect(keyed.code).toBe(1);
    expect(keyed.out).toContain(`audit log TAMPERED: entry #${action.id} was forged: its MAC does not verify under the audit key`);
    expect(keyed.out).toContain(`first bad entry: #${action.id} (`);

    // The auditor with the public key only: the signed checkpoints pin the chain.
    const auditor = await verify(path, ['--checkpoint', checkpointsFile, '--public-key', publicKeyFile]);
    expect(auditor.code).toBe(1);
    const m = /entries #(\d+)–#(\d+) do not match the checkpoint of \S+ \(entry #\d+\): the chain was rewritten/.exec(auditor.out);
    expect(m, auditor.out).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(action.id);
    expect(Number(m![2])).toBeGreaterThanOrEqual(action.id);
  });

  it('(b) the last entries deleted (head row fixed too): truncation detected against the checkpoints', async () => {
    const path = copy();
    const n = rowsOf(path).length;
    const db = attackerDb(path);
    db.prepare('DELETE FROM audit_log WHERE id > ?').run(n - 2);
    const last = db.prepare<[], { hash: string }>('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1').get()!;
    db.prepare('UPDATE audit_head SET last_id = ?, hash = ? WHERE one = 1').run(n - 2, last.hash);
    db.close();

    expect((await verify(path, [], withKey)).code).toBe(0); // nothing in the file itself shows it
    for (const extra of [['--checkpoint', checkpointsFile], ['--checkpoint', receiverUrl, '--public-key', publicKeyFile]]) {
      const r = await verify(path, extra, withKey);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`audit log TAMPERED: the log ends at entry #${n - 2} but the checkpoint of`);
      expect(r.out).toContain(`recorded ${n} entries: entries #${n - 1}–#${n} were removed (truncated)`);
    }
  });

  it('(c) without the key, a chain re-keyed with a key of the attacker is detected, and so is a checkpoint the attacker signed', async () => {
    const path = copy();
    const rows = rowsOf(path);
    const target = rows.find((r) => r.kind === 'kill-switch')!;
    const mine = auditKeyFrom(randomBytes(32).toString('hex'));
    rewrite(path, target.id, { who: 'someone-else', what: 'kill switch ON: nothing to see' }, mine.mac);
    const db = attackerDb(path);
    db.prepare('UPDATE audit_meta SET key_id = ? WHERE one = 1').run(mine.id);
    db.close();

    const keyed = await verify(path, [], withKey);
    expect(keyed.code).toBe(1);
    expect(keyed.out).toContain(`entry #${target.id} was forged: its MAC does not verify under the audit key`);
    expect(keyed.out).toContain(`the log's keying marker names key ${mine.id}; the key given is ${audit.key.id}`);

    // The attacker also appends a checkpoint of the forged chain, signed with their own key.
    const forged = rowsOf(path);
    const tail = forged[forged.length - 1]!;
    const fields = { v: 1 as const, seq: tail.id, count: forged.length, head: tail.hash, mac: tail.mac, keyedFrom: 1, keyId: mine.id, at: new Date().toISOString(), reason: 'interval' as const };
    const polluted = join(dir, 'polluted.jsonl');
    copyFileSync(checkpointsFile, polluted);
    appendFileSync(polluted, `${JSON.stringify({ ...fields, sig: mine.sign(signedBytes(fields)) })}\n`);
    const auditor = await verify(path, ['--checkpoint', polluted, '--public-key', publicKeyFile]);
    expect(auditor.code).toBe(1);
    expect(auditor.out).toMatch(/audit log TAMPERED: (entries #\d+–#\d+ do not match the checkpoint|the checkpoint of \S+ \(entry #\d+\) was signed by key [0-9a-f]{16}, not by the log's key)/);
    // …and relabelled with the real key id, its signature does not verify.
    const relabelled = join(dir, 'relabelled.jsonl');
    writeFileSync(relabelled, `${JSON.stringify({ ...fields, keyId: audit.key.id, sig: mine.sign(signedBytes({ ...fields, keyId: audit.key.id })) })}\n`);
    const sig = await verify(path, ['--checkpoint', relabelled, '--public-key', publicKeyFile]);
    expect(sig.code).toBe(1);
    expect(sig.out).toContain(`has an invalid signature under key ${audit.key.id}: it was forged or altered`);
  });

  it("(c') the keying stripped (marker deleted, MACs nulled, plain chain recomputed): refused with the key and against the checkpoints", async () => {
    const path = copy();
    const rows = rowsOf(path);
    rewrite(path, 2, { who: 'mallory' }, () => null);
    const db = attackerDb(path);
    db.exec('DELETE FROM audit_meta; UPDATE audit_log SET mac = NULL;');
    db.close();
    expect(rows.length).toBeGreaterThan(2);

    const keyed = await verify(path, [], withKey);
    expect(keyed.code).toBe(1);
    expect(keyed.out).toContain('the log has no keying marker although an audit key was given');
    const auditor = await verify(path, ['--checkpoint', checkpointsFile, '--public-key', publicKeyFile]);
    expect(auditor.code).toBe(1);
    expect(auditor.out).toContain("the log's keying marker says never keyed but the checkpoint of");
  });

  it('CSV export: the formula label is a quoted text cell starting with an apostrophe', async () => {
    const r = await runMedicCli(['audit', 'export', '--file', copy(), '--format', 'csv']);
    expect(r.code).toBe(0);
    const escaped = `"'${FORMULA.replace(/"/g, '""')}"`;
    expect(r.out).toContain(`,${escaped},`); // the target column
    // No cell anywhere starts with a formula character: each line split on cell boundaries.
    for (const line of r.out.split('\r\n').slice(1)) {
      expect(line).not.toMatch(/(^|,)[=+\-@]/);
      expect(line).not.toMatch(/(^|,)"[=+\-@]/);
    }
  });
});
