// The Snooze button, end to end on real parts: the root message carries the playbook's Snooze
// choices; a signed click reaches real Bolt, the `snooze` Update's validator applies the approver
// policy (a stranger is refused privately), and an allowed approver's click creates a silence in
// the real Alertmanager, by them, recorded in the timeline with who did it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAlertmanager } from '../../dev/prometheus-stack.js';
import { freePort } from '../../dev/ports.js';
import type { AlertmanagerSilence } from '../../activities/alertmanager.js';
import { demoPlaybook } from '../support/fixtures.js';
import { startSlackMedic, U, waitUntil, type SlackMedic } from '../support/slack.js';

let m: SlackMedic;
let am: { url: string; stop(): Promise<void> };
let dir: string;
beforeAll(async () => {
  const port = await freePort();
  dir = await mkdtemp(join(tmpdir(), 'medic-snooze-'));
  // Alertmanager only receives silences here: its route goes nowhere.
  am = await startAlertmanager(dir, port, { route: { receiver: 'none' }, receivers: [{ name: 'none' }] });
  m = await startSlackMedic({ alertmanagerUrl: am.url });
}, 60_000);
afterAll(async () => {
  await m?.stop();
  await am?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('Snooze 30m: refused for someone who may not approve, a silence by the approver otherwise, recorded with who did it', async () => {
  const pb = demoPlaybook(m.demo.url, {
    name: 'snoozable',
    silence: { duration: '10m', snooze: ['30m', '2h'] },
    steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${m.demo.url}/remediate` }, requiresApproval: true, approvers: [U.alice], approvalTimeout: '5m' }],
  });
  const id = await m.start(pb);
  const root = await waitUntil('the Snooze buttons', () => {
    const r = m.rootOf(id);
    return r && JSON.stringify(r.blocks).includes('snooze_incident:30m') ? r : undefined;
  });

  expect((await m.interact.clickButton(U.carol, root, 'snooze_incident:30m')).status).toBe(200);
  await waitUntil('the refusal', () => m.slack.ephemerals.find((e) => e.user === U.carol && e.text.includes('Not snoozed')));
  expect(m.slack.ephemerals.find((e) => e.user === U.carol)!.text).toContain('U0CAROL may not snooze this incident');

  const before = Date.now();
  expect((await m.interact.clickButton(U.alice, root, 'snooze_incident:30m')).status).toBe(200);
  const snoozed = await waitUntil('the snooze entry', async () => (await m.timeline(id)).find((e) => e.kind === 'control.snoozed'));
  expect(snoozed.kind === 'control.snoozed' && snoozed.data.silence.by).toBe(U.alice);
  const incidentId = (await m.status(id)).incidentId;
  const silences = (await (await fetch(`${am.url}/api/v2/silences`)).json()) as AlertmanagerSilence[];
  const mine = silences.filter((s) => s.comment.includes(incidentId));
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({ createdBy: U.alice, status: { state: 'active' } });
  const ends = Date.parse(mine[0]!.endsAt);
  expect(ends).toBeGreaterThanOrEqual(before + 30 * 60_000 - 1_000);
  expect(ends).toBeLessThan(Date.now() + 30 * 60_000 + 1_000);
  expect(mine[0]!.matchers.map((x) => `${x.name}=${x.value}`)).toEqual(['alertname=DemoServiceDown', `service=${(await m.status(id)).service}`]);
  await waitUntil('the root shows who snoozed', () => JSON.stringify(m.rootOf(id)!.blocks).includes(`snoozed by ${U.alice}`));
}, 60_000);
