// The medic CLI as a separate process against a real medic: it acts as the operator its token
// maps to, and its approvals pass the same validator as Slack clicks.
import { describe, expect, it } from 'vitest';
import { ingestAlerts } from '../../src/intake/ingest.js';
import { cliAgainst } from '../support/cli.js';
import { demoPlaybook, firingAlert, healthyAgain, perFile, remediateStep, silentLog } from '../support/fixtures.js';
import { startMedic, TOKENS } from '../support/medic.js';

const m = perFile(() =>
  startMedic({
    playbooks: (url) => [
      demoPlaybook(url, {
        name: 'four-eyes',
        match: { alertname: 'FourEyes' },
        // verifying keeps the incident running while the test clicks again: the demo service
        // stays unhealthy (stubborn) until the test has clicked
        steps: [remediateStep(url, { name: 'failover', risk: 'high', requiresApproval: true, fourEyes: true, approvers: ['alice', 'bob'], verification: healthyAgain(url, '1s', '40s') })],
      }),
    ],
  }),
);
const medic = cliAgainst(m);

/** One CLI call as `token`: its exit code when given ('failed': any but 0), and what its stdout
 * and stderr must contain. */
async function expectCli(token: string, args: string[], want: { code?: number | 'failed'; out?: string; err?: string }): Promise<void> {
  const r = await medic(token, ...args);
  if (want.code === 'failed') expect(r.code).not.toBe(0);
  else if (want.code !== undefined) expect(r.code).toBe(want.code);
  if (want.out !== undefined) expect(r.out).toContain(want.out);
  if (want.err !== undefined) expect(r.err).toContain(want.err);
}

describe('medic CLI', () => {
  it('refuses an unknown token', async () => {
    await expectCli('not-a-known-token-xxxxx', ['incidents'], { code: 'failed', err: '401: unknown API token' });
  });

  it('approvals go through the workflow validator as the token’s operator', async () => {
    // root opened this incident (e.g. from a runbook); the step is four-eyes: two different approvers
    const alert = { ...firingAlert({ alertname: 'FourEyes' }) };
    const started = await ingestAlerts(
      { client: m.env.client, taskQueue: m.config.temporal.taskQueue, playbooks: () => m.playbooks, log: silentLog },
      [alert],
      { requestedBy: 'root' },
    );
    const id = started.incidents[0]!.workflowId;
    m.demo.state.fault = 'stubborn';
    await m.waitFor(id, (s) => s.status === 'awaiting_approval');

    const list = await medic(TOKENS.alice, 'incidents');
    expect(list.out).toContain(id);
    expect(list.out).toContain('awaiting_approval');

    await expectCli(TOKENS.admin, ['approve', id], { code: 'failed', err: '403: root may not decide step 1; approvers: alice, bob' });
    await expectCli(TOKENS.alice, ['approve', id], { code: 0, out: 'step 1: approval 1 of 2 recorded (alice); four-eyes: a different approver must approve too' });
    await expectCli(TOKENS.alice, ['approve', id], { err: '409: four-eyes step: alice already approved step 1' });
    expect(Object.keys(m.demo.state.applied).filter((k) => k.startsWith(id))).toEqual([]);

    await expectCli(TOKENS.bob, ['deny', id], { code: 2, err: 'deny needs --reason' });
    await expectCli(TOKENS.bob, ['approve', id], { code: 0, out: 'step 1 approved by alice and bob' });
    await expectCli(TOKENS.bob, ['approve', id], { err: 'step 1 was already approved by bob' });
    expect((await m.status(id)).endedAt).toBeUndefined(); // the click above reached a running incident
    m.demo.state.fault = 'none';

    const final = await m.waitFor(id, (s) => s.endedAt !== undefined, 60_000);
    expect(final.approval).toMatchObject({ by: 'bob', with: ['alice'] });
    const status = await medic(TOKENS.alice, 'status', id);
    expect(status.out).toContain('approved by alice and bob');
  });

  it('pause/resume and status show the kill switch; non-admins are refused', async () => {
    expect((await medic(TOKENS.bob, 'pause')).err).toContain('403: bob is not an admin');
    expect((await medic(TOKENS.admin, 'pause', '--reason', 'game day')).out).toContain('automation PAUSED by root');
    expect((await medic(TOKENS.alice, 'status')).out).toContain('kill switch: PAUSED by root (game day)');
    expect((await medic(TOKENS.admin, 'resume')).out).toContain('automation resumed by root');
    expect((await medic(TOKENS.alice, 'status')).out).toContain('kill switch: automation enabled');
  });

  it('a drill medic has no scenario for is refused with a clear message', async () => {
    const r = await medic(TOKENS.alice, 'drill', 'demo-outage');
    expect(r.err).toContain(`404: no drill "demo-outage" (no drill scenarios configured: drills.paths in medic's config)`);
  });

  it('says what went wrong for unknown commands and missing arguments', async () => {
    expect((await medic(TOKENS.alice, 'explode')).err).toContain('unknown command "explode"');
    expect((await medic(TOKENS.alice, 'approve')).err).toContain('usage: medic approve <incident-id>');
  });
});
