// /medic through real Bolt: help, status, incidents, and the kill switch restricted to admins
// (a user id or a member of an admin @group); everyone else is refused and nothing changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { governorWorkflowId } from '../../workflows/contracts.js';
import { demoPlaybook } from '../support/fixtures.js';
import { startSlackMedic, U, waitUntil, type SlackMedic } from '../support/slack.js';

let m: SlackMedic;
beforeAll(async () => {
  m = await startSlackMedic();
});
afterAll(async () => {
  await m?.stop();
});

async function command(user: string, text: string): Promise<string> {
  const before = m.slack.ephemerals.length;
  const res = await m.interact.slashCommand(user, '/medic', text);
  expect(res.status).toBe(200);
  const reply = await waitUntil(`reply to /medic ${text}`, () => m.slack.ephemerals.slice(before).find((e) => e.user === user));
  return reply.text;
}
const paused = async (): Promise<boolean> => {
  try {
    return (await m.env.client.workflow.getHandle(governorWorkflowId(m.taskQueue)).query<{ pause: { paused: boolean } }>('governorState')).pause.paused;
  } catch {
    return false; // no governor yet: nothing was ever paused
  }
};

describe('/medic slash command', () => {
  it('help, and an unknown subcommand answers with the usage', async () => {
    expect(await command(U.carol, 'help')).toContain('/medic status [incident]');
    expect(await command(U.carol, 'frobnicate')).toContain('Unknown subcommand `frobnicate`');
  });

  it('status and incidents list open incidents; status <incident> shows one', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(
      demoPlaybook(m.demo.url, {
        name: 'cmd-status',
        steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${m.demo.url}/remediate` }, requiresApproval: true, approvers: [U.alice] }],
      }),
    );
    await waitUntil('awaiting approval', async () => (await m.status(id)).status === 'awaiting_approval');
    await waitUntil('listed', async () => (await command(U.carol, 'incidents')).includes(id), 20_000);
    const overview = await command(U.carol, 'status');
    expect(overview).toContain('Automation is *running*');
    expect(overview).toContain(id);
    const one = await command(U.carol, `status ${id}`);
    expect(one).toContain('Awaiting approval');
    expect(one).toContain('approval needed');
    expect(await command(U.carol, 'status incident:nope:0123456789ab')).toContain('no incident');
    await m.env.client.workflow.getHandle(id).terminate('test done');
  });

  it('pause/resume by a non-admin is refused with a clear message and nothing changes', async () => {
    const reply = await command(U.carol, 'pause database is on fire');
    expect(reply).toContain('Only medic admins may pause automation');
    expect(reply).toContain('Nothing was changed');
    expect(await paused()).toBe(false);
    expect(await command(U.alice, 'resume')).toContain('Only medic admins may resume');
  });

  it('an admin (by id) pauses, an admin-group member (@sre-admins) resumes', async () => {
    expect(await command(U.root, 'pause maintenance')).toContain('Automation paused: maintenance');
    expect(await paused()).toBe(true);
    expect(await command(U.carol, 'status')).toContain('paused');
    expect(await command(U.dana, 'resume')).toContain('Automation resumed');
    expect(await paused()).toBe(false);
  });
});

describe('App Home', () => {
  const home = (user: string) => JSON.stringify(m.slack.homes.get(user)?.blocks ?? []);

  it('shows the kill switch, open incidents and the last 7 days (auto-resolved, escalated, MTTR)', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(demoPlaybook(m.demo.url, { name: 'home-healed' }));
    await waitUntil('healed', async () => (await m.status(id)).status === 'resolved', 30_000);
    await waitUntil('home counts the resolved incident', async () => {
      const res = await m.interact.openAppHome(U.carol);
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      return /Auto-resolved \(7 days\)\*\\n[1-9]/.test(home(U.carol)) ? true : undefined;
    });
    const view = home(U.carol);
    expect(view).toContain('Automation is running');
    expect(view).toContain('Open incidents');
    expect(view).toContain('Escalated (7 days)');
    expect(view).not.toMatch(/MTTR \(7 days\)\*\\n—/);
  });

  it('the kill-switch button works for admins only', async () => {
    await m.interact.openAppHome(U.carol);
    await waitUntil('carol home', () => (m.slack.homes.get(U.carol) ? true : undefined));
    await m.interact.clickHomeButton(U.carol, 'toggle_pause');
    await waitUntil('refusal on carol home', () => (home(U.carol).includes('Only medic admins may pause') ? true : undefined));
    expect(await paused()).toBe(false);

    await m.interact.openAppHome(U.root);
    await waitUntil('root home', () => (m.slack.homes.get(U.root) ? true : undefined));
    await m.interact.clickHomeButton(U.root, 'toggle_pause');
    await waitUntil('paused', () => (home(U.root).includes('Automation is paused') ? true : undefined));
    expect(await paused()).toBe(true);
    await m.interact.clickHomeButton(U.root, 'toggle_pause');
    await waitUntil('resumed', () => (home(U.root).includes('You resumed automation') ? true : undefined));
    expect(await paused()).toBe(false);
  });
});
