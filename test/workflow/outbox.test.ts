// The durable outbox on the Java time-skipping server: Slack (the stand-in behind a proxy that
// refuses connections) is down for 15 minutes of workflow time, while the incident lives and after
// it ended. Nothing is published while it is down, nothing unpublished is evicted by the timeline
// cap, and once Slack is back the thread catches up line for line, in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandIn, type SlackStandIn } from '../../dev/slack/server.js';
import { slackWebClient } from '../../src/slack/client.js';
import { entryLine } from '../../src/slack/ui/incident.js';
import type { TimelineEntry } from '../../workflows/contracts.js';
import { demoPlaybook } from '../support/fixtures.js';
import { startToggleProxy, type ToggleProxy } from '../support/toggle-proxy.js';
import { MINUTE, startIncident, timeline, waitForStatus, workflowHarness, type WorkflowHarness } from '../support/workflow-harness.js';

const TOKEN = 'xoxb-medic-outbox-token';
const CHANNEL = 'C0OUTBOX';
let h: WorkflowHarness;
let slack: SlackStandIn;
let proxy: ToggleProxy;

beforeAll(async () => {
  slack = await startSlackStandIn({ botToken: TOKEN, channels: [{ id: CHANNEL, name: 'incidents' }] });
  proxy = await startToggleProxy({ host: '127.0.0.1', port: Number(new URL(slack.url).port) });
  // No client-side retries: each publish attempt fails fast while Slack is down.
  h = await workflowHarness('outbox', { extra: { slack: { web: slackWebClient({ botToken: TOKEN, apiUrl: `http://${proxy.address}/api/`, retries: 0 }), channel: CHANNEL } } });
});
afterAll(async () => {
  await h?.close();
  await proxy?.close();
  await slack?.close();
});

type Block = { block_id?: string; text?: { text?: string } };
/** The timeline lines in the incident's Slack thread, in thread order (timeline batches are the
 * sections without a block_id). */
function threadLines(workflowId: string): string[] {
  const root = slack.history(CHANNEL).find((m) => JSON.stringify(m.blocks ?? []).includes(workflowId));
  if (!root) return [];
  return slack
    .thread(CHANNEL, root.ts)
    .flatMap((m) => ((m.blocks ?? []) as Block[]).filter((b) => b.block_id === undefined).map((b) => b.text?.text ?? ''))
    .flatMap((t) => t.split('\n'));
}
const lines = (t: TimelineEntry[]): string[] => t.map(entryLine);

describe('durable outbox', () => {
  it('Slack down 15 minutes while the incident lives: no entry is dropped or evicted, then the thread catches up line for line', async () => {
    h.demo.state.fault = 'stubborn'; // the step fails its verification, the incident escalates and holds
    const pb = demoPlaybook(h.demo.url, { name: 'outbox-live', holdAfterEscalation: '30m', escalation: [{ kind: 'record', to: 'on-call' }] });
    await proxy.down();
    const { handle } = await startIncident(h, pb, { options: { timelineCap: 4 } });
    await waitForStatus(handle, (s) => s.phase === 'escalate' && s.escalationSent, 'the escalation', 60_000);
    await h.env.sleep(15 * MINUTE);
    const held = await timeline(handle);
    // nothing published, and the cap (4) evicted none of the unpublished entries
    expect(threadLines(handle.workflowId)).toEqual([]);
    expect(held.length).toBeGreaterThan(4);
    expect(held[0]!.seq).toBe(0);
    expect(held.map((e) => e.seq)).toEqual(held.map((_, i) => i));

    await proxy.up();
    const final = await handle.result();
    expect(final.status).toBe('escalated');
    const kept = await timeline(handle);
    expect(final.publishedSeq).toBe(final.timelineDropped + kept.length);
    // the thread has every entry, in order: those spilled after publishing, then those still kept
    const thread = threadLines(handle.workflowId);
    expect(thread.slice(0, held.length)).toEqual(lines(held));
    expect(thread).toHaveLength(final.timelineDropped + kept.length);
    expect(thread.slice(final.timelineDropped)).toEqual(lines(kept));
    expect(final.timelineDropped).toBeGreaterThan(0); // published entries were spilled over the cap
  });

  it('Slack down when the incident ends: a detached drain keeps trying and the thread catches up after 15 minutes', async () => {
    h.demo.state.fault = 'outage'; // the step heals: the incident resolves while Slack is down
    const pb = demoPlaybook(h.demo.url, { name: 'outbox-ended' });
    await proxy.down();
    const { handle, incidentId } = await startIncident(h, pb);
    const final = await handle.result();
    expect(final.status).toBe('resolved');
    expect(final.publishedSeq).toBe(0);
    expect(threadLines(handle.workflowId)).toEqual([]);
    const drain = h.env.client.workflow.getHandle(`${handle.workflowId}/outbox/${incidentId}`);
    expect((await drain.describe()).status.name).toBe('RUNNING');
    await h.env.sleep(15 * MINUTE);
    expect(threadLines(handle.workflowId)).toEqual([]);
    await proxy.up();
    const drained = (await drain.result()) as { published: number };
    const t = await timeline(handle);
    expect(drained.published).toBe(t.length);
    expect(threadLines(handle.workflowId)).toEqual(lines(t));
  });
});
