// Crash points of the Slack sink: a worker process is killed with SIGKILL while one of its Slack
// posts is (a) sent but not landed, (b) landed with the answer not delivered, or (c) answered but
// the publish activity not completed (its next call is held). A proxy in front of the Slack
// stand-in holds the call; the next worker process retries the publish. Each crash point must end
// with the message posted exactly once (counted at the stand-in), the publish re-sent, and the
// incident resolved; the approval request must lose its buttons once approved. Its rows go to the
// reliability suite's one table (exactly-once-table.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { startSlackStandIn, type SlackStandIn, type StandInMessage } from '../../dev/slack/server.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { METADATA_EVENT, type Part } from '../../src/sinks/slack/post.js';
import type { IncidentStatus } from '../../workflows/contracts.js';
import { firingAlert, healthyAgain, remediateStep, silentLog } from '../support/fixtures.js';
import { slackCall, startHoldingProxy, type Exchange, type HoldingProxy, type SlackCall } from '../support/crash-proxy.js';
import { signedUpdates } from '../support/identity.js';
import { SLACK, waitUntil } from '../support/slack.js';
import { devServerEnv, uniqueQueue } from '../support/temporal.js';
import { playbookDir, privateBundle } from '../support/worker-process.js';
import { crashPlaybook, lastAttempt, warmWorkers } from './crash-harness.js';
import { recordRows, type ExactlyOnceRow } from './exactly-once-table.js';

type Point = 'sent' | 'landed' | 'answered';
interface Aim {
  part: Extract<Part, 'root' | 'approval'>;
  point: Point;
}
/** The approval post is the last call of its publish, so "answered, not completed" is aimed at the root. */
const AIMS: Aim[] = [
  { part: 'root', point: 'sent' },
  { part: 'root', point: 'landed' },
  { part: 'root', point: 'answered' },
  { part: 'approval', point: 'sent' },
  { part: 'approval', point: 'landed' },
];
/** The table's crash point names (crash-proxy's hold points) for the Slack ones. */
const LABEL: Record<Point, string> = { sent: 'before-target (sent)', landed: 'answer-held (landed)', answered: 'answer-delivered (answered, next call held)' };
const SPARES = 2;

let env: TestWorkflowEnvironment;
let demo: DemoService;
let slack: SlackStandIn;
let proxy: HoldingProxy;
let stopWorkers: () => Promise<void> = async () => undefined;
const taskQueue = uniqueQueue('slack-kill9');

interface Run extends Aim {
  pb: Playbook;
  workflowId?: string;
  killedAt?: number;
}

const playbook = (name: string, alertname: string): Playbook =>
  crashPlaybook({
    name,
    match: { alertname },
    groupBy: ['alertname', 'service'],
    target: '{{labels.service}}',
    steps: [
      remediateStep(demo.url, {
        params: { method: 'POST', url: `${demo.url}/remediate`, expectStatus: [200] },
        timeout: '5s',
        requiresApproval: true,
        approvers: ['alice'],
        approvalTimeout: '30m',
        verification: healthyAgain(demo.url, '1s', '2m'),
      }),
    ],
  });

const tagOf = (m: { metadata?: StandInMessage['metadata'] }): { incident: string; part: string; seq: number } | undefined =>
  m.metadata?.event_type === METADATA_EVENT ? (m.metadata.event_payload as { incident: string; part: string; seq: number }) : undefined;
const partOf = (c: SlackCall): string | undefined => {
  try {
    return (JSON.parse(c.params.metadata ?? '') as { event_payload?: { part?: string } }).event_payload?.part;
  } catch {
    return undefined;
  }
};
const mentions = (c: SlackCall, run: Run): boolean => JSON.stringify(c.params).includes(run.pb.name);
const isTarget = (e: Exchange, run: Run): boolean => {
  const c = slackCall(e);
  return c.method === 'chat.postMessage' && partOf(c) === run.part && mentions(c, run);
};
const rootOf = (run: Run): StandInMessage | undefined => slack.history(SLACK.channel).find((m) => JSON.stringify(m.blocks).includes(run.pb.name));
const messagesOf = (run: Run): StandInMessage[] => {
  const root = rootOf(run);
  return root ? [root, ...slack.thread(SLACK.channel, root.ts)] : [];
};

beforeAll(async () => {
  privateBundle();
  [env, demo] = await Promise.all([devServerEnv(), startDemoService()]);
  slack = await startSlackStandIn({ botToken: SLACK.token, channels: [{ id: SLACK.channel, name: 'incidents' }], users: [{ id: 'U0ALICE', name: 'alice' }] });
  proxy = await startHoldingProxy({ target: slack.url });
});
afterAll(async () => {
  await stopWorkers();
  await proxy?.close();
  await slack?.close();
  await demo?.close();
  await env?.teardown();
});

it(`SIGKILL at each Slack crash point (${AIMS.map((a) => `${a.part}/${a.point}`).join(', ')}): posted once, re-sent, incident resolved`, async () => {
  demo.state.fault = 'outage';
  const runs: Run[] = AIMS.map((a, i) => ({ ...a, pb: playbook(`slack-crash-${i}-run`, `SlackCrash${i}x`) }));
  const workers = await warmWorkers({
    env,
    taskQueue,
    spares: SPARES,
    workerEnv: {
      MEDIC_PLAYBOOKS: playbookDir(runs.map((r) => r.pb)),
      MEDIC_SLACK_BOT_TOKEN: SLACK.token,
      MEDIC_SLACK_SIGNING_SECRET: SLACK.secret,
      MEDIC_SLACK_CHANNEL: SLACK.channel,
      MEDIC_SLACK_API_URL: `${proxy.url}/api/`,
    },
  });
  stopWorkers = () => workers.stop();

  for (const run of runs) {
    const held =
      run.point === 'answered'
        ? // The target's answer went through; the next call of the same publish is held.
          proxy.hold((e) => {
            const root = rootOf(run);
            const answered = proxy.exchanges.some((x) => x !== e && x.status !== undefined && isTarget(x, run));
            const { params } = slackCall(e);
            return !!root && answered && !isTarget(e, run) && [params.ts, params.message_ts, params.thread_ts].includes(root.ts);
          }, 'before-target')
        : proxy.hold((e) => isTarget(e, run), run.point === 'sent' ? 'before-target' : 'answer-held');
    const r = await ingestAlerts({ client: env.client, taskQueue, playbooks: () => [run.pb], log: silentLog }, [firingAlert({ alertname: String(run.pb.match.alertname) })]);
    run.workflowId = r.incidents[0]!.workflowId;
    await Promise.race([held, new Promise((_, reject) => setTimeout(() => reject(new Error(`${run.part}/${run.point}: the call to hold never came`)), 90_000))]);
    run.killedAt = Date.now();
    await workers.kill();
    proxy.drop();
    await workers.takeOver();
  }

  // Each incident waits for approval: approved once its (single) request is in the thread.
  const finals = await Promise.all(
    runs.map(async (run) => {
      await waitUntil(`${run.pb.name}: approval request in Slack`, () => messagesOf(run).some((m) => tagOf(m)?.part === 'approval'), 150_000);
      await signedUpdates(env.client).decide(run.workflowId!, { decision: 'approve', user: 'alice' });
      return (await env.client.workflow.getHandle(run.workflowId!).result()) as IncidentStatus;
    }),
  );
  await workers.stopSpares();

  // Per run: the table row first (recorded even when an assertion below fails), then the checks.
  const measured = await Promise.all(
    runs.map(async (run, n) => {
      const calls = proxy.exchanges.filter((e) => e.at > run.killedAt!).map(slackCall);
      // The retry found its own message instead of posting: a metadata lookup after the kill.
      const lookups = calls.filter((c) => (run.part === 'root' ? c.method === 'conversations.history' : c.method === 'conversations.replies' && c.params.ts === rootOf(run)!.ts));
      const sent = proxy.exchanges.filter((e) => isTarget(e, run)).length;
      const applied = messagesOf(run).filter((m) => tagOf(m)?.part === run.part).length;
      const status = finals[n]!.status;
      const row: ExactlyOnceRow = {
        actuator: `slack ${run.part} post (stand-in)`,
        point: LABEL[run.point],
        sent,
        applied,
        resent: proxy.exchanges.filter((e) => e.at > run.killedAt! && isTarget(e, run)).length + lookups.length,
        attempts: await lastAttempt(env, run.workflowId!, 'publishIncident'),
        status,
        lost: applied === 0 || status !== 'resolved' ? 1 : 0,
      };
      return { run, row, lookups };
    }),
  );
  console.log(recordRows('slack', measured.map((m) => m.row)));

  for (const { run, row, lookups } of measured) {
    const msgs = messagesOf(run);
    expect(row.applied, `${run.part}/${run.point}: posted exactly once`).toBe(1);
    // Nothing in the thread twice: every tagged message (part, seq) is there once.
    const tags = msgs.map(tagOf).filter((t) => t !== undefined).map((t) => `${t.part}:${t.seq}`);
    expect(new Set(tags).size, `${run.part}/${run.point}: no message posted twice`).toBe(tags.length);
    expect(row.attempts > 1 || row.sent > 1, `${run.part}/${run.point}: the publish was re-sent after the kill`).toBe(true);
    if (run.point === 'sent') expect(row.sent, 'the held post never landed; the retry posted it').toBe(2);
    else {
      expect(lookups.length, `${run.part}/${run.point}: looked for its own message`).toBeGreaterThan(0);
      expect(row.sent).toBe(1);
    }
    expect(row.status).toBe('resolved');
    expect(row.lost).toBe(0);
    const request = msgs.find((m) => tagOf(m)?.part === 'approval')!;
    await waitUntil('the approval request lost its buttons', () => !JSON.stringify(slack.message(SLACK.channel, request.ts)!.blocks).includes('"button"'));
  }
}, 600_000);
