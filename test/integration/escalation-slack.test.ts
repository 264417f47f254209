// The escalation ladder in Slack, end to end on real parts: Temporal dev server, the worker's Slack
// sink posting into the Slack stand-in, real Bolt on medic's server receiving correctly signed
// clicks, and PagerDuty pages through pdjs to the local HTTPS Events API stand-in.
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPagerDutyStandIn, type PagerDutyStandIn } from '../../dev/pagerduty/stand-in.js';
import type { StandInMessage } from '../../dev/slack/server.js';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import { demoPlaybook } from '../support/fixtures.js';
import { SLACK, startSlackMedic, U, waitUntil, type SlackMedic } from '../support/slack.js';

const ROUTING_KEY = 'SLACKLADDERR0UT1NGKEY0123456789a';
let m: SlackMedic;
let pd: PagerDutyStandIn;
let agent: Agent;
beforeAll(async () => {
  pd = await startPagerDutyStandIn();
  agent = new Agent({ ca: pd.certs.ca });
  m = await startSlackMedic({ secrets: { PD_KEY: ROUTING_KEY }, pagerduty: { server: pd.server, agent, throttlePauseMs: 20 } });
});
afterAll(async () => {
  await m?.stop();
  agent?.destroy();
  await pd?.close();
});

let n = 0;
/** A step that only dry-runs, so the incident escalates at once to the given ladder. */
const laddered = (escalation: PlaybookInput['escalation']) =>
  demoPlaybook(m.demo.url, {
    name: `ladder-${++n}`,
    holdAfterEscalation: '10m',
    steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${m.demo.url}/remediate`, expectStatus: [200] }, dryRun: true }],
    escalation,
  });
const withBlock = (id: string, blockId: string) => () =>
  m.threadOf(id).find((x) => (x.blocks as { block_id?: string }[] | undefined)?.some((b) => b.block_id === blockId));
const blocksText = (msg: StandInMessage | undefined) => JSON.stringify(msg?.blocks ?? []);
const current = (msg: StandInMessage) => m.slack.message(SLACK.channel, msg.ts)!;
const ephemeralsFor = (user: string) => m.slack.ephemerals.filter((e) => e.user === user).map((e) => e.text);
type Sent = { event_action: string; dedup_key: string };
const pagesFor = (dedupKey: string) => pd.events.filter((e) => (e.body as Sent).dedup_key === dedupKey);

describe('escalation ladder in the Slack thread', () => {
  it('the group is mentioned with Take it; a non-member is refused; a member taking it stops the ladder (no page), and their Resolve ends it', async () => {
    const id = await m.start(laddered([
      { kind: 'slack-group', group: '@oncall', wait: '2m' },
      { kind: 'pagerduty', routingKeySecret: 'PD_KEY' },
    ]));
    const ladder = await waitUntil('the ladder message', withBlock(id, 'ladder'));
    const request = await waitUntil('the take request', withBlock(id, 'take'));
    expect(request.thread_ts).toBe(m.rootOf(id)!.ts);
    expect(blocksText(request)).toContain('<!subteam^S0ONCALL>');
    expect(blocksText(request)).toContain('take_incident');
    expect(m.slack.groupMentions.filter((g) => g.ts === request.ts)).toEqual([{ channel: SLACK.channel, ts: request.ts, group: 'S0ONCALL', notified: [U.bob] }]);
    await waitUntil('ladder marks rung 1 as waiting', () => /hourglass_flowing_sand: 1\. ask @oncall to take it \(waits 2m\) — waiting until/.test(blocksText(current(ladder))));
    expect(blocksText(current(ladder))).toContain(':white_circle: 2. page PagerDuty');

    await m.interact.clickButton(U.carol, request, 'take_incident');
    expect(await waitUntil('carol refused', () => ephemeralsFor(U.carol).find((t) => t.includes('Only members of @oncall')))).toContain('Nothing was changed');
    expect((await m.status(id)).owner).toBeUndefined();

    const stale = structuredClone(request); // as a client that has not seen the update yet shows it
    const res = await m.interact.clickButton(U.bob, request, 'take_incident');
    expect(res.status).toBe(200);
    const owned = await waitUntil('acknowledged', async () => ((await m.status(id)).status === 'acknowledged' ? m.status(id) : undefined));
    expect(owned.owner).toMatchObject({ by: U.bob, rung: 0, via: '@oncall' });
    await waitUntil('request shows who took it', () => blocksText(current(request)).includes('Taken by <@U0BOB>'));
    expect(blocksText(current(request))).not.toContain('take_incident');
    await waitUntil('ladder shows it taken', () => blocksText(current(ladder)).includes(':raising_hand: 1. ask @oncall to take it (waits 2m) — taken by <@U0BOB>'));
    expect(blocksText(current(ladder))).toContain(':heavy_minus_sign: 2. page PagerDuty');
    await waitUntil('root shows Taken', () => blocksText(m.rootOf(id)).includes('Taken'));
    // a second click is told it is already taken
    await m.interact.clickButton(U.root, stale, 'take_incident');
    expect(await waitUntil('root told', () => ephemeralsFor(U.root).find((t) => t.includes('already taken by U0BOB')))).toContain('Not taken');

    await m.interact.clickButton(U.bob, current(ladder), 'resolve_incident');
    const done = await waitUntil('resolved', async () => ((await m.status(id)).phase === 'done' ? m.status(id) : undefined));
    expect(done).toMatchObject({ status: 'resolved', outcome: 'resolved by U0BOB: resolved from Slack', resolvedBy: { by: U.bob } });
    await waitUntil('ladder shows resolved', () => blocksText(current(ladder)).includes('Resolved by <@U0BOB>'));
    expect(blocksText(current(ladder))).not.toContain('resolve_incident');
    expect(pagesFor(done.incidentId)).toEqual([]); // never paged
    expect(m.slack.calls.filter((c) => !c.ok && c.status !== 429)).toEqual([]);
  });

  it('human resolve after a page: PagerDuty receives resolve with the same dedup_key; only allowed people may resolve', async () => {
    const id = await m.start(laddered([{ kind: 'record', to: 'on-call' }, { kind: 'pagerduty', routingKeySecret: 'PD_KEY' }]));
    const status = await waitUntil('paged', async () => {
      const s = await m.status(id);
      return s.pages?.[0]?.sent ? s : undefined;
    });
    const dedupKey = status.incidentId;
    expect(pagesFor(dedupKey).map((e) => [(e.body as Sent).event_action, e.status])).toEqual([['trigger', 202]]);
    const ladder = await waitUntil('the ladder message', withBlock(id, 'ladder'));
    await waitUntil('ladder ran out', () => blocksText(current(ladder)).includes(':white_check_mark: 2. page PagerDuty'));

    await m.interact.clickButton(U.carol, current(ladder), 'resolve_incident');
    expect(await waitUntil('carol refused', () => ephemeralsFor(U.carol).find((t) => t.includes('may resolve it')))).toContain('Nothing was changed');
    expect((await m.status(id)).resolvedBy).toBeUndefined();

    await m.interact.clickButton(U.root, current(ladder), 'resolve_incident'); // a medic admin
    const done = await waitUntil('resolved', async () => ((await m.status(id)).phase === 'done' ? m.status(id) : undefined));
    expect(done).toMatchObject({ status: 'resolved', resolvedBy: { by: U.root }, outcome: 'resolved by U0ROOT: resolved from Slack' });
    expect(pagesFor(dedupKey).map((e) => [(e.body as Sent).event_action, e.status])).toEqual([['trigger', 202], ['resolve', 202]]);
    expect(pd.alertsFor(dedupKey)).toHaveLength(1);
    expect(pd.alertsFor(dedupKey)[0]!.status).toBe('resolved');
    const t = (await m.timeline(id)).map((e) => e.message);
    expect(t).toContain('U0ROOT resolved the incident by hand: resolved from Slack');
    expect(t).toContain('PagerDuty accepted the resolve: 202 Event processed');
    await waitUntil('root shows Resolved', () => blocksText(m.rootOf(id)).includes('Resolved'));
  });
});
