// Kill-switch changes made from Slack (/medic pause|resume through real Bolt) land in the keyed
// audit log with the Slack user who made them; the chain still verifies. Signed checkpoints posted
// to a Slack audit channel (the Web API stand-in) verify the log when copied back from Slack.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { slackCheckpointSink, startCheckpointer } from '../../src/audit/checkpoint.js';
import { readAuditKeyFile, type AuditKey } from '../../src/audit/key.js';
import { auditLog, openAuditDb, type AuditLog } from '../../src/audit/log.js';
import { slackWebClient } from '../../src/slack/client.js';
import { runMedicCli } from '../support/cli.js';
import { SLACK, startSlackMedic, U, waitUntil, type SlackMedic } from '../support/slack.js';

const AUDIT_CHANNEL = 'C0AUDIT';
const dir = mkdtempSync(join(tmpdir(), 'medic-audit-slack-'));
const path = join(dir, 'audit.db');
const keyFile = join(dir, 'audit.key');
let m: SlackMedic;
let db: Database;
let key: AuditKey;
let log: AuditLog;
beforeAll(async () => {
  writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  key = readAuditKeyFile(keyFile);
  db = openAuditDb(path);
  log = auditLog(db, { key });
  m = await startSlackMedic({
    audit: log,
    standIn: { channels: [{ id: SLACK.channel, name: 'incidents' }, { id: AUDIT_CHANNEL, name: 'audit' }] },
  });
});
afterAll(async () => {
  await m?.stop();
  db?.close();
});

it('/medic pause and resume from Slack are audited with the Slack user', async () => {
  expect((await m.interact.slashCommand(U.root, '/medic', 'pause db failover')).status).toBe(200);
  const paused = await waitUntil('the pause in the audit log', () => log.entries().find((e) => e.kind === 'kill-switch'));
  expect(paused).toMatchObject({ who: U.root, why: 'db failover', before: 'running', after: 'paused', incidentId: null });
  expect((await m.interact.slashCommand(U.dana, '/medic', 'resume')).status).toBe(200);
  const resumed = await waitUntil('the resume in the audit log', () => log.entries().filter((e) => e.kind === 'kill-switch')[1]);
  expect(resumed).toMatchObject({ who: U.dana, before: 'paused', after: 'running' });
  expect(log.verify({ key })).toMatchObject({ ok: true, entries: 2, macs: 'checked', keyedFrom: 1 });
});

it('signed checkpoints posted to the Slack audit channel verify the log when copied back (medic audit verify --checkpoint)', async () => {
  const errors: string[] = [];
  const web = slackWebClient({ botToken: SLACK.token, apiUrl: m.slack.apiUrl, retries: 2 });
  const checkpointer = startCheckpointer({ log, key, sinks: [slackCheckpointSink(web, AUDIT_CHANNEL)], everyEntries: 1, intervalMs: 3_600_000, onError: (e) => errors.push(e) });
  await checkpointer.stop(); // the start checkpoint; nothing new since, so no second one
  expect(errors).toEqual([]);
  const posted = m.slack.history(AUDIT_CHANNEL);
  expect(posted).toHaveLength(1);
  expect(posted[0]!.text).toMatch(new RegExp(`^medic audit checkpoint: entry #2 \\(2 entries, key ${key.id}, start\\)\n\`\`\`\\{`));

  const copied = join(dir, 'from-slack.txt');
  writeFileSync(copied, posted.map((p) => p.text).join('\n'));
  const pub = join(dir, 'audit.pub');
  writeFileSync(pub, key.publicKeyPem);
  const r = await runMedicCli(['audit', 'verify', '--file', path, '--checkpoint', copied, '--public-key', pub]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toContain(`matches 1 signed checkpoint from ${copied} (last: #2 at `);
});
