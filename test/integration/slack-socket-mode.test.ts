// Socket Mode instead of the HTTP endpoint: with an app token medic opens a WebSocket
// (apps.connections.open on the stand-in) and receives the same clicks and commands as
// envelopes; /slack/events is not served at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPlaybook } from '../support/fixtures.js';
import { SLACK, startSlackMedic, U, waitUntil, type SlackMedic } from '../support/slack.js';

let m: SlackMedic;
beforeAll(async () => {
  m = await startSlackMedic({ socketMode: true });
});
afterAll(async () => {
  await m?.stop();
});

describe('Slack over Socket Mode', () => {
  it('connects with the app token; /slack/events is not served', async () => {
    expect(m.slack.socket.connected()).toBe(true);
    expect(m.slack.calls.some((c) => c.method === 'apps.connections.open' && c.ok)).toBe(true);
    const res = await fetch(`${m.url}/slack/events`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(404);
    // The app token opens connections and nothing else.
    const r = await fetch(`${m.slack.apiUrl}chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${SLACK.appToken}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'channel=C0INCIDENT&text=x' });
    expect(await r.json()).toEqual({ ok: false, error: 'not_allowed_token_type' });
  });

  it('an Approve click arrives as an envelope: acked, approved, the action runs and the incident resolves', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(
      demoPlaybook(m.demo.url, {
        name: 'socket-approval',
        steps: [
          {
            name: 'restart',
            action: 'http',
            params: { method: 'POST', url: `${m.demo.url}/remediate`, expectStatus: [200] },
            requiresApproval: true,
            approvers: [U.alice],
            verification: { http: { url: `${m.demo.url}/healthz` }, window: '1s', interval: '250ms', deadline: '20s' },
          },
        ],
      }),
    );
    const request = await waitUntil('approval message', () => m.approvalMessage(id));
    const carol = await m.interact.clickButton(U.carol, request, 'approve_step');
    expect(carol.status).toBe(200);
    await waitUntil('carol told', () => m.slack.ephemerals.find((e) => e.user === U.carol && e.text.includes('may not decide')));
    const res = await m.interact.clickButton(U.alice, request, 'approve_step');
    expect(res.status).toBe(200);
    await waitUntil('resolved', async () => (await m.status(id)).status === 'resolved', 30_000);
    expect(JSON.stringify(m.slack.message(SLACK.channel, request.ts)!.blocks)).toContain('Approved by <@U0ALICE>');
  });

  it('slash commands arrive as envelopes too', async () => {
    const before = m.slack.ephemerals.length;
    const res = await m.interact.slashCommand(U.carol, '/medic', 'pause');
    expect(res.status).toBe(200);
    const reply = await waitUntil('reply', () => m.slack.ephemerals.slice(before).find((e) => e.user === U.carol));
    expect(reply.text).toContain('Only medic admins may pause');
  });
});
