// The Slack sink never posts a message twice, on the real stand-in behind a holding proxy: a post
// whose answer is lost (connection dropped after the message landed) is looked up by its metadata
// before it is sent again, and a retried publish that lost its refs (another worker, attempt 2)
// finds every message of the first try instead of posting them again. (Kills of a real worker
// process: test/reliability/slack-kill9.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandIn, type SlackStandIn } from '../../dev/slack/server.js';
import { createSlackSink } from '../../src/sinks/slack/sink.js';
import { slackWebClient } from '../../src/slack/client.js';
import type { ApprovalRequest, IncidentStatus, PublishInput, TimelineEntry } from '../../workflows/contracts.js';
import { entry } from '../../workflows/contracts-timeline.js';
import { slackCall, startHoldingProxy, type HoldingProxy, type SlackCall } from '../support/crash-proxy.js';
import { SLACK } from '../support/slack.js';

let slack: SlackStandIn;
let proxy: HoldingProxy;
beforeAll(async () => {
  slack = await startSlackStandIn({ botToken: SLACK.token, channels: [{ id: SLACK.channel, name: 'incidents' }] });
  proxy = await startHoldingProxy({ target: slack.url });
});
afterAll(async () => {
  await proxy?.close();
  await slack?.close();
});

let n = 0;
function incident(): { input: () => PublishInput; id: string } {
  const startedAt = Date.now();
  const id = `incident:resend-${++n}:0123456789ab:run-${n}`;
  const request: ApprovalRequest = { step: 0, stepName: 'restart', what: 'POST /remediate', risk: 'high', approvers: ['U0ALICE'], fourEyes: false, requestedAt: startedAt, expiresAt: startedAt + 600_000 };
  const status = {
    workflowId: id.split(':run')[0],
    incidentId: id,
    status: 'awaiting_approval',
    phase: 'approval',
    playbook: `resend-${n}`,
    service: 'checkout',
    severity: 'critical',
    target: 'checkout',
    alertname: 'DemoServiceDown',
    stepIndex: 0,
    startedAt,
    pendingApproval: request,
    resolvedByAlert: false,
  } as unknown as IncidentStatus;
  // The same input every time, as Temporal hands a retried activity.
  return { id, input: () => ({ incident: status, entries: entries(startedAt), refs: {} }) };
}
const entries = (at: number): TimelineEntry[] =>
  [
    entry.alertOpened({ message: 'incident opened', data: { detection: { source: 'alertmanager' } } }),
    entry.gatePassed({ message: 'gates passed', step: 0, data: { decisions: [] } }),
    entry.approvalRequested({
      message: 'approval needed',
      step: 0,
      data: { request: { step: 0, stepName: 'restart', what: 'POST /remediate', risk: 'high', approvers: ['U0ALICE'], fourEyes: false, requestedAt: at, expiresAt: at + 600_000 } },
    }),
  ].map((e, seq) => ({ seq, at, ...e }) as TimelineEntry);
const tagged = (id: string) =>
  slack.messages.filter((m) => (m.metadata?.event_payload as { incident?: string } | undefined)?.incident === id).map((m) => (m.metadata!.event_payload as { part: string }).part);
const partOf = (c: SlackCall): string | undefined => (c.params.metadata ? (JSON.parse(c.params.metadata) as { event_payload: { part: string } }).event_payload.part : undefined);
/** The Slack calls the proxy saw from the n-th exchange on. */
const callsSince = (n: number): SlackCall[] => proxy.exchanges.slice(n).map(slackCall);

describe('Slack sink: lost answers and retried publishes post nothing twice', () => {
  it('a post whose answer is lost is looked up before it is sent again (root and thread)', async () => {
    const web = slackWebClient({ botToken: SLACK.token, apiUrl: `${proxy.url}/api/`, retries: 2 });
    const sink = createSlackSink({ web, channel: SLACK.channel });
    for (const part of ['root', 'approval']) {
      const inc = incident();
      const since = proxy.exchanges.length;
      const held = proxy.hold((e) => {
        const c = slackCall(e);
        return c.method === 'chat.postMessage' && partOf(c) === part && c.params.metadata!.includes(inc.id);
      }, 'answer-held');
      const publishing = sink.publish(inc.input());
      await held;
      proxy.drop(); // the message landed; its answer never arrives
      const refs = (await publishing) as PublishInput['refs'];
      const calls = callsSince(since);
      expect(tagged(inc.id).sort(), part).toEqual(['approval', 'entries', 'root']);
      expect(calls.filter((c) => c.method === 'chat.postMessage' && partOf(c) === part), part).toHaveLength(1);
      expect(calls.some((c) => c.method === (part === 'root' ? 'conversations.history' : 'conversations.replies')), `${part}: looked up`).toBe(true);
      expect(refs.slack?.approvals.map((a) => a.ts)).toEqual([slack.messages.find((m) => (m.metadata?.event_payload as { part?: string; incident?: string })?.part === 'approval' && (m.metadata?.event_payload as { incident?: string }).incident === inc.id)!.ts]);
    }
  });

  it('a retried publish without the first try’s refs finds its messages and posts none again', async () => {
    const web = slackWebClient({ botToken: SLACK.token, apiUrl: `${proxy.url}/api/`, retries: 2 });
    const inc = incident();
    const first = (await createSlackSink({ web, channel: SLACK.channel }).publish(inc.input())) as PublishInput['refs'];
    const since = proxy.exchanges.length;
    // Another worker, attempt 2, handed the same input (its refs from before the first try).
    const retried = (await createSlackSink({ web, channel: SLACK.channel, attempt: () => 2 }).publish(inc.input())) as PublishInput['refs'];
    const calls = callsSince(since);
    expect(calls.filter((c) => c.method === 'chat.postMessage')).toEqual([]);
    expect(calls.map((c) => c.method)).toEqual(expect.arrayContaining(['conversations.history', 'conversations.replies']));
    expect(tagged(inc.id).sort()).toEqual(['approval', 'entries', 'root']);
    expect(retried.slack).toMatchObject({ rootTs: first.slack!.rootTs, seq: first.slack!.seq, approvals: first.slack!.approvals });
  });
});
