// The Slack stand-in behaves like Slack where medic depends on it: auth, Slack's error codes for
// bad shapes, per-channel and Tier 3 rate limits with 429 + Retry-After, and signed requests Bolt
// accepts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySlackRequest } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { startSlackStandIn, type SlackStandIn } from '../../dev/slack/server.js';
import Fastify from 'fastify';
import { ACK_DEADLINE_MS, slackInteractor, slackSignature } from '../../dev/slack/interact.js';
import { slackWebClient } from '../../src/slack/client.js';

const TOKEN = 'xoxb-standin-test-token';
let slack: SlackStandIn;
let web: WebClient;

beforeAll(async () => {
  slack = await startSlackStandIn({
    botToken: TOKEN,
    channels: [
      { id: 'C0INCIDENT', name: 'incidents' },
      { id: 'C0OTHER', name: 'other' },
    ],
    users: [{ id: 'U0ALICE', name: 'alice' }],
    usergroups: [{ id: 'S0ONCALL', handle: 'oncall', users: ['U0ALICE'] }],
    // Rejected calls count against the budget as on Slack; this suite tests shapes, not pacing.
    rateLimits: { postMessagePerChannel: { burst: 50, perSecond: 1 } },
  });
  web = slackWebClient({ botToken: TOKEN, apiUrl: slack.apiUrl, retries: 0 });
});
afterAll(async () => {
  await slack?.close();
});

const errorOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    return (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
  }
  throw new Error('expected the call to fail');
};

describe('Slack Web API stand-in', () => {
  it('checks the token like Slack: not_authed without one, invalid_auth with a wrong one', async () => {
    const res = await fetch(`${slack.apiUrl}auth.test`, { method: 'POST' });
    expect(await res.json()).toEqual({ ok: false, error: 'not_authed' });
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    expect(await errorOf(wrong.auth.test())).toBe('invalid_auth');
    const ok = await web.auth.test();
    expect(ok).toMatchObject({ ok: true, user_id: slack.bot.userId, team_id: slack.team.id });
  });

  it("rejects what Slack rejects, with Slack's error codes, and records nothing", async () => {
    const before = slack.messages.length;
    const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
    expect(await errorOf(web.chat.postMessage({ channel: 'C0NOPE', text: 'hi' }))).toBe('channel_not_found');
    expect(await errorOf(web.chat.postMessage({ channel: 'C0INCIDENT', text: 'hi', blocks: [{ type: 'carousel' }] }))).toBe('invalid_blocks');
    expect(await errorOf(web.chat.postMessage({ channel: 'C0INCIDENT', text: 'hi', blocks: Array.from({ length: 51 }, () => section('x')) }))).toBe('invalid_blocks');
    expect(await errorOf(web.chat.postMessage({ channel: 'C0INCIDENT', text: 'hi', blocks: [section('x'.repeat(3001))] }))).toBe('invalid_blocks');
    expect(await errorOf(web.chat.postMessage({ channel: 'C0INCIDENT', text: '' }))).toBe('no_text');
    expect(await errorOf(web.chat.postMessage({ channel: 'C0INCIDENT', text: 'reply', thread_ts: '1.000001' }))).toBe('thread_not_found');
    expect(await errorOf(web.chat.update({ channel: 'C0INCIDENT', ts: '1.000001', text: 'x' }))).toBe('message_not_found');
    expect(await errorOf(web.views.open({ trigger_id: 'made-up', view: { type: 'modal', title: { type: 'plain_text', text: 't' }, blocks: [] } }))).toBe('invalid_trigger_id');
    expect(await errorOf(web.chat.postEphemeral({ channel: 'C0INCIDENT', user: 'U0NOBODY', text: 'psst' }))).toBe('user_not_found');
    expect(slack.messages.length).toBe(before);
    // The boundary: exactly 50 blocks and 3000 characters are fine.
    await web.chat.postMessage({ channel: 'C0INCIDENT', text: 'ok', blocks: Array.from({ length: 50 }, () => section('x')) });
    await web.chat.postMessage({ channel: '#incidents', text: 'ok', blocks: [section('x'.repeat(3000))] });
    expect(slack.messages.length).toBe(before + 2);
  });

  it('keeps threads and edits in place, and answers the lookups medic makes', async () => {
    const root = await web.chat.postMessage({ channel: 'C0OTHER', text: 'root' });
    await web.chat.postMessage({ channel: 'C0OTHER', text: 'reply 1', thread_ts: root.ts! });
    await web.chat.update({ channel: 'C0OTHER', ts: root.ts!, text: 'root, edited' });
    expect(slack.message('C0OTHER', root.ts!)).toMatchObject({ text: 'root, edited', updates: 1 });
    expect(slack.thread('C0OTHER', root.ts!).map((m) => m.text)).toEqual(['reply 1']);
    expect((await web.usergroups.users.list({ usergroup: 'S0ONCALL' })).users).toEqual(['U0ALICE']);
    expect((await web.users.info({ user: 'U0ALICE' })).user?.name).toBe('alice');
    expect((await web.conversations.info({ channel: 'C0OTHER' })).channel?.name).toBe('other');
    const trigger = slack.issueTrigger('U0ALICE');
    const opened = await web.views.open({ trigger_id: trigger, view: { type: 'modal', title: { type: 'plain_text', text: 'Hi' }, blocks: [] } });
    expect(slack.views.get(opened.view!.id!)?.user).toBe('U0ALICE');
    expect(await errorOf(web.views.open({ trigger_id: trigger, view: { type: 'modal', title: { type: 'plain_text', text: 'Hi' }, blocks: [] } }))).toBe('invalid_trigger_id');
  });

  it('rate-limits chat.postMessage per channel with a short burst: 429 + Retry-After; WebClient waits and nothing is lost', async () => {
    const limited = await startSlackStandIn({ botToken: TOKEN, channels: [{ id: 'C1', name: 'one' }, { id: 'C2', name: 'two' }], rateLimits: { postMessagePerChannel: { burst: 2, perSecond: 2 } } });
    try {
      const raw = (channel: string) =>
        fetch(`${limited.apiUrl}chat.postMessage`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ channel, text: 'x' }),
        });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await raw('C1')).status);
      expect(statuses).toEqual([200, 200, 429, 429]);
      const limitedRes = await raw('C1');
      expect(limitedRes.status).toBe(429);
      expect(Number(limitedRes.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await raw('C2')).status).toBe(200); // another channel has its own budget

      const patient = slackWebClient({ botToken: TOKEN, apiUrl: limited.apiUrl, retries: 10 });
      const sent = await Promise.all(Array.from({ length: 6 }, (_, i) => patient.chat.postMessage({ channel: 'C2', text: `m${i}` })));
      expect(sent.every((r) => r.ok)).toBe(true);
      expect(limited.history('C2').map((m) => m.text).filter((t) => t.startsWith('m')).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
      expect(limited.calls.some((c) => c.method === 'chat.postMessage' && c.status === 429 && c.channel === 'C2')).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('rate-limits chat.update at Tier 3', async () => {
    const limited = await startSlackStandIn({ botToken: TOKEN, rateLimits: { tier3: { burst: 3, perSecond: 50 / 60 } } });
    try {
      const c = slackWebClient({ botToken: TOKEN, apiUrl: limited.apiUrl, retries: 0 });
      const root = await c.chat.postMessage({ channel: 'C0INCIDENT', text: 'root' });
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await c.chat.update({ channel: 'C0INCIDENT', ts: root.ts!, text: `v${i}` }).then(() => 'ok', (e: Error) => e.message));
      expect(results.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
      expect(results[3]).toMatch(/rate limit/i);
    } finally {
      await limited.close();
    }
  });

  it('takes file uploads the two-step way (getUploadURLExternal → bytes → completeUploadExternal) and shares them into a thread', async () => {
    const root = await web.chat.postMessage({ channel: 'C0OTHER', text: 'graph below' });
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const r = await web.filesUploadV2({ channel_id: 'C0OTHER', thread_ts: root.ts!, file: png, filename: 'graph.png', title: 'p99 latency', initial_comment: 'latency over the incident' });
    expect(r.ok).toBe(true);
    const shared = slack.thread('C0OTHER', root.ts!).find((x) => x.files?.length);
    expect(shared).toMatchObject({ text: 'latency over the incident', files: [{ title: 'p99 latency', name: 'graph.png', size: png.length }] });
    expect(slack.files.get(shared!.files![0]!.id)?.bytes).toEqual(png);
    expect(await errorOf(web.files.completeUploadExternal({ files: [{ id: 'F0NOPE' }] }))).toBe('file_not_found');
    const pending = await web.files.getUploadURLExternal({ filename: 'x.txt', length: 10 });
    expect(await errorOf(web.files.completeUploadExternal({ files: [{ id: pending.file_id! }] }))).toBe('file_upload_size_mismatch');
  });

  it("signs requests the way Bolt verifies them (v0 HMAC-SHA256 over timestamp and raw body)", () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = 'payload=%7B%7D';
    const secret = 'signing-secret-for-tests';
    expect(() =>
      verifySlackRequest({ signingSecret: secret, body, headers: { 'x-slack-signature': slackSignature(secret, ts, body), 'x-slack-request-timestamp': ts } }),
    ).not.toThrow();
    expect(() =>
      verifySlackRequest({ signingSecret: secret, body: `${body}x`, headers: { 'x-slack-signature': slackSignature(secret, ts, body), 'x-slack-request-timestamp': ts } }),
    ).toThrow();
  });

  it('keeps message metadata and returns it from conversations.history / conversations.replies only with include_all_metadata; pages with cursors', async () => {
    const meta = (part: string, seq: number) => ({ event_type: 'medic_incident_message', event_payload: { incident: 'inc-meta', part, seq } });
    const root = await web.chat.postMessage({ channel: 'C0OTHER', text: 'root', metadata: meta('root', -1) });
    expect(root.message?.metadata).toEqual(meta('root', -1));
    for (let seq = 0; seq < 3; seq++) await web.chat.postMessage({ channel: 'C0OTHER', text: `entry ${seq}`, thread_ts: root.ts!, metadata: meta('entries', seq) });
    // A malformed event_type is a warning: the message is posted, its metadata dropped.
    const bad = await web.chat.postMessage({ channel: 'C0OTHER', text: 'odd', thread_ts: root.ts!, metadata: { event_type: 'has.dots', event_payload: { a: 1 } } });
    expect(bad).toMatchObject({ ok: true, warning: 'invalid_metadata_schema' });
    expect(slack.message('C0OTHER', bad.ts!)?.metadata).toBeUndefined();
    const raw = await fetch(`${slack.apiUrl}chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ channel: 'C0OTHER', text: 'x', metadata: '{not json' }) });
    expect(await raw.json()).toEqual({ ok: false, error: 'invalid_metadata_format' });

    const plain = await web.conversations.replies({ channel: 'C0OTHER', ts: root.ts! });
    expect(plain.messages!.map((m) => m.text)).toEqual(['root', 'entry 0', 'entry 1', 'entry 2', 'odd']);
    expect(plain.messages!.some((m) => 'metadata' in m)).toBe(false);
    const first = await web.conversations.replies({ channel: 'C0OTHER', ts: root.ts!, include_all_metadata: true, limit: 3 });
    expect(first.messages!.map((m) => (m.metadata?.event_payload as { seq?: number } | undefined)?.seq)).toEqual([-1, 0, 1]);
    expect(first).toMatchObject({ has_more: true, response_metadata: { next_cursor: expect.any(String) } });
    const rest = await web.conversations.replies({ channel: 'C0OTHER', ts: root.ts!, include_all_metadata: true, cursor: first.response_metadata!.next_cursor! });
    expect(rest.messages!.map((m) => m.text)).toEqual(['entry 2', 'odd']);
    expect(rest.has_more).toBe(false);

    // history: root messages only, newest first, bounded by oldest; the root shows its replies.
    const history = await web.conversations.history({ channel: 'C0OTHER', oldest: String(Number(root.ts) - 1), include_all_metadata: true });
    const found = history.messages!.find((m) => m.ts === root.ts)!;
    expect(found).toMatchObject({ metadata: meta('root', -1), reply_count: 4, bot_id: slack.bot.botId });
    expect(history.messages!.some((m) => m.text?.startsWith('entry'))).toBe(false);
    expect((await web.conversations.history({ channel: 'C0OTHER', oldest: root.ts! })).messages!.some((m) => m.ts === root.ts)).toBe(false);
    expect(await errorOf(web.conversations.replies({ channel: 'C0OTHER', ts: '1.000002' }))).toBe('thread_not_found');
    expect(await errorOf(web.conversations.history({ channel: 'C0OTHER', limit: 5000 }))).toBe('invalid_limit');
  });

  it("gives an app 3 seconds to acknowledge an interaction, then gives up with Slack's operation_timeout", async () => {
    const app = Fastify();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    let delayMs = 0;
    app.post('/slack/events', async (_req, reply) => {
      await new Promise((r) => setTimeout(r, delayMs));
      return reply.send('');
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const interact = slackInteractor({ standIn: slack, eventsUrl: `${url}/slack/events`, signingSecret: 'secret' });
      expect(await interact.slashCommand('U0ALICE', '/medic', 'help', 'C0INCIDENT')).toMatchObject({ status: 200, body: '' });
      delayMs = ACK_DEADLINE_MS + 500;
      const started = Date.now();
      const late = await interact.slashCommand('U0ALICE', '/medic', 'help', 'C0INCIDENT');
      expect(late).toMatchObject({ status: 504, body: { error: 'operation_timeout' }, late: true });
      expect(Date.now() - started).toBeLessThan(ACK_DEADLINE_MS + 400);
    } finally {
      await app.close();
    }
  });
});
