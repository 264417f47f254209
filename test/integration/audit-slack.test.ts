// Kill-switch changes made from Slack (/medic pause|resume through real Bolt) land in the audit
// log with the Slack user who made them; the chain still verifies.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { auditLog, openAuditDb, type AuditLog } from '../../src/audit/log.js';
import { startSlackMedic, U, waitUntil, type SlackMedic } from '../support/slack.js';

let m: SlackMedic;
let db: Database;
let log: AuditLog;
beforeAll(async () => {
  db = openAuditDb(join(mkdtempSync(join(tmpdir(), 'medic-audit-slack-')), 'audit.db'));
  log = auditLog(db);
  m = await startSlackMedic({ audit: log });
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
  expect(log.verify()).toMatchObject({ ok: true, entries: 2 });
});
