// A busy incident against Slack's rate limits: 200 timeline events in 10 s must all reach the
// thread, coalesced into few messages, in order, with every 429 waited out (none left unhandled).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertSignal } from '../../workflows/contracts.js';
import { demoPlaybook, firingAlert } from '../support/fixtures.js';
import { SLACK, startSlackMedic, U, waitUntil, type SlackMedic } from '../support/slack.js';

let m: SlackMedic;
beforeAll(async () => {
  // Stricter than medic's own pacing, so 429s do happen and have to be honoured.
  m = await startSlackMedic({ standIn: { rateLimits: { postMessagePerChannel: { burst: 2, perSecond: 0.5 } } } });
});
afterAll(async () => {
  await m?.stop();
});

describe('Slack thread under load', () => {
  it('200 timeline events in 10 s: every one visible (coalesced), in order, no 429 left unhandled', async () => {
    m.demo.state.fault = 'outage';
    const pb = demoPlaybook(m.demo.url, {
      name: 'burst',
      steps: [
        {
          name: 'restart',
          action: 'http',
          params: { method: 'POST', url: `${m.demo.url}/remediate` },
          requiresApproval: true,
          approvers: [U.alice],
          approvalTimeout: '10m',
        },
      ],
    });
    const id = await m.start(pb);
    await waitUntil('awaiting approval', async () => (await m.status(id)).status === 'awaiting_approval');
    const handle = m.env.client.workflow.getHandle(id);
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      const a = firingAlert({ alertname: `Burst${String(i).padStart(3, '0')}` });
      await handle.signal(alertSignal, [{ ...a, fingerprint: `burst-${i}` }]);
      const due = started + (i + 1) * 50;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
    expect(Date.now() - started).toBeLessThan(12_000);

    const lines = () =>
      m
        .threadOf(id)
        .flatMap((x) => (x.blocks as { text?: { text: string } }[]).flatMap((b) => (b.text?.text ?? '').split('\n')))
        .map((l) => /Burst(\d{3}) firing/.exec(l)?.[1])
        .filter((x): x is string => x !== undefined);
    await waitUntil('all 200 events in the thread', () => lines().length >= 200, 90_000);
    expect(lines()).toEqual(Array.from({ length: 200 }, (_, i) => String(i).padStart(3, '0')));

    const posts = m.slack.calls.filter((c) => c.method === 'chat.postMessage');
    const ok = posts.filter((c) => c.ok).length;
    expect(posts.some((c) => c.status === 429)).toBe(true); // the limits were really hit…
    expect(posts.filter((c) => !c.ok && c.status !== 429)).toEqual([]); // …and nothing else failed
    expect(ok).toBe(m.slack.messages.filter((x) => x.channel === SLACK.channel).length);
    expect(m.threadOf(id).length).toBeLessThan(40); // coalesced, not one message per event
    await handle.terminate('test done');
  });
});
