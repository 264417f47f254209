// Thread verbosity and the root message's context on the real Slack stand-in (which enforces
// Slack's Block Kit shapes): at `summary` routine steps stay out of the thread and are counted on
// the root message (never twice across publishes), `quiet` keeps only what a person must know,
// `full` posts everything; the root shows the true scope, the silence and similar incidents.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandIn, type SlackStandIn } from '../../dev/slack/server.js';
import { createSlackSink } from '../../src/sinks/slack/sink.js';
import { slackWebClient } from '../../src/slack/client.js';
import type { Verbosity } from '../../src/playbooks/thread.js';
import type { IncidentStatus, PublishInput, TimelineEntry } from '../../workflows/contracts.js';
import { entry, type NewEntry } from '../../workflows/contracts-timeline.js';
import { SLACK } from '../support/slack.js';

let slack: SlackStandIn;
beforeAll(async () => {
  slack = await startSlackStandIn({ botToken: SLACK.token, channels: [{ id: SLACK.channel, name: 'incidents' }] });
});
afterAll(async () => slack?.close());

let n = 0;
const status = (over: Partial<IncidentStatus> = {}): IncidentStatus =>
  ({
    workflowId: `incident:verbose-${++n}:0123456789ab`,
    incidentId: `incident:verbose-${n}:0123456789ab:run-${n}`,
    status: 'verifying',
    phase: 'verify',
    playbook: 'verbose',
    service: 'checkout',
    severity: 'critical',
    target: 'checkout',
    alertname: 'DemoServiceDown',
    stepIndex: 0,
    startedAt: Date.now(),
    resolvedByAlert: false,
    ...over,
  }) as unknown as IncidentStatus;
const numbered = (from: number, es: NewEntry[]): TimelineEntry[] => es.map((e, i) => ({ seq: from + i, at: Date.now(), ...e }) as TimelineEntry);
const routine = [
  entry.alertOpened({ message: 'incident opened', data: { detection: { source: 'alertmanager' } } }),
  entry.gatePassed({ message: 'gates passed for step 1/1', step: 0, data: { decisions: [] } }),
  entry.lockAcquired({ message: 'lock on checkout acquired', data: { target: 'checkout' } }),
  entry.actionStarted({ message: 'step 1/1 (restart) started', step: 0, data: { idempotencyKey: 'k', stepName: 'restart', try: 1, dryRun: false } }),
];
const later = [
  entry.actionFailed({ message: 'step 1/1 (restart) failed: HTTP 500', step: 0, data: {} }),
  entry.verificationStarted({ message: 'verifying step 1/1 (restart)', step: 0, data: {} }),
  entry.verificationProbeFailed({ message: 'probe failed: 503', step: 0, data: {} }),
];
const threadLines = (i: IncidentStatus, rootTs: string): string =>
  slack.messages
    .filter((m) => m.thread_ts === rootTs && (m.metadata?.event_payload as { incident?: string } | undefined)?.incident === i.incidentId)
    .map((m) => JSON.stringify(m.blocks))
    .join('\n');

async function run(v: Verbosity | undefined, channel: Verbosity | undefined, over: Partial<IncidentStatus> = {}) {
  const sink = createSlackSink({ web: slackWebClient({ botToken: SLACK.token, apiUrl: `${slack.url}/api/` }), channel: SLACK.channel, ...(channel ? { verbosity: channel } : {}) });
  const i = status({ ...(v ? { verbosity: v } : {}), ...over });
  const first = (await sink.publish({ incident: i, entries: numbered(0, routine), refs: {} })) as PublishInput['refs'];
  const second = (await sink.publish({ incident: i, entries: numbered(routine.length, later), refs: first })) as PublishInput['refs'];
  const rootTs = second.slack!.rootTs;
  const root = slack.messages.find((m) => m.ts === rootTs)!;
  return { refs: second.slack!, thread: threadLines(i, rootTs), root: JSON.stringify(root.blocks) };
}

describe('thread verbosity', () => {
  it('summary (the channel default): routine steps are counted on the root message, the rest are replies', async () => {
    const r = await run(undefined, 'summary');
    expect(r.refs.routine).toMatchObject({ count: 5, last: 'verifying step 1/1 (restart)' });
    expect(r.thread).toContain('failed: HTTP 500');
    expect(r.thread).toContain('probe failed: 503');
    for (const m of ['incident opened', 'gates passed', 'lock on checkout', 'started', 'verifying step']) expect(r.thread).not.toContain(m);
    expect(r.root).toContain('5 routine steps kept out of this thread');
    expect(r.root).toContain('medic status incident:verbose-');
  });

  it('a playbook\'s quiet overrides the channel: only failures and decisions are replies; full posts everything', async () => {
    const q = await run('quiet', 'summary');
    expect(q.refs.routine?.count).toBe(6);
    expect(q.thread).toContain('failed: HTTP 500');
    expect(q.thread).not.toContain('probe failed');
    const f = await run('full', 'summary');
    expect(f.refs.routine).toBeUndefined();
    for (const m of ['incident opened', 'gates passed', 'failed: HTTP 500', 'probe failed: 503']) expect(f.thread).toContain(m);
  });

  it('the root message shows the true scope, the silence and similar past incidents (within Block Kit limits)', async () => {
    const r = await run(undefined, undefined, {
      coverage: { alerts: 7, truncated: 5, targets: { seen: 2, atMost: 7 } },
      silence: { id: 'sil-1', until: Date.now() + 600_000, active: true },
      similar: [{ incidentId: 'incident:verbose:0123456789ab:old', openedAt: Date.now() - 86_400_000, playbook: 'verbose', why: 'same alertname, service', score: 4.5, outcome: 'healed by step 1/1 (restart)', fix: { step: 'restart', successRate: 0.75, runs: 4 }, postmortem: '/api/incidents/old/postmortem' }],
      tryWhatWorked: { step: 'restart', index: 0, successRate: 0.75 },
    });
    expect(r.root).toContain('7 alerts (5 left out of a capped Alertmanager notification), 2–7 distinct targets');
    expect(r.root).toContain('alerts silenced in Alertmanager until');
    expect(r.root).toContain('Similar past incidents');
    expect(r.root).toContain('fixed by *restart* (75% of 4 runs healed)');
    expect(r.root).toContain('Try what worked last time: *restart*');
  });
});
