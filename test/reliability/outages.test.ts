// Slack down for 60 s and PagerDuty down, while incidents run: actions and verification go on, the
// escalation goes on, and once each comes back everything catches up in order with nothing
// dropped or doubled — the Slack thread equals the incident's timeline line for line, PagerDuty
// gets the trigger and then the resolve. "Down" = connection refused (a TCP proxy in front of each
// stand-in closes its port). MEDIC_SLACK_OUTAGE_MS (default 60000) and MEDIC_PD_OUTAGE_MS
// (default 20000) set the outages.
import { Agent } from 'node:https';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { startPagerDutyStandIn, type PagerDutyStandIn } from '../../dev/pagerduty/stand-in.js';
import { startSlackStandIn, type SlackStandIn } from '../../dev/slack/server.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { slackWebClient } from '../../src/slack/client.js';
import { entryLine } from '../../src/slack/ui/incident.js';
import { createMedicWorker, type MedicWorker } from '../../src/temporal/worker.js';
import { statusQuery, timelineQuery, type IncidentStatus, type TimelineEntry } from '../../workflows/contracts.js';
import { firingAlert, knownPlaybooks, silentLog, testPlaybook } from '../support/fixtures.js';
import { devServerEnv, uniqueQueue, workflowBundle } from '../support/temporal.js';
import { startToggleProxy, type ToggleProxy } from '../support/toggle-proxy.js';

const SLACK_OUTAGE_MS = Number(process.env.MEDIC_SLACK_OUTAGE_MS ?? 60_000);
const PD_OUTAGE_MS = Number(process.env.MEDIC_PD_OUTAGE_MS ?? 20_000);
const TOKEN = 'xoxb-medic-outage-token';
const CHANNEL = 'C0INCIDENT';
const ROUTING_KEY = 'R0UT1NGKEYoutage0123456789abcdef';

let env: TestWorkflowEnvironment;
let healable: DemoService;
let stubborn: DemoService;
let slack: SlackStandIn;
let pd: PagerDutyStandIn;
let slackProxy: ToggleProxy;
let pdProxy: ToggleProxy;
let agent: Agent;
let worker: MedicWorker;
let running: Promise<void>;
const taskQueue = uniqueQueue('outage');

function playbook(name: string, demo: DemoService, escalation: Playbook['escalation']): Playbook {
  return testPlaybook({
    name,
    match: { alertname: name },
    steps: [
      {
        name: 'restart',
        action: 'http',
        params: { method: 'POST', url: `${demo.url}/remediate`, expectStatus: [200] },
        timeout: '5s',
        retries: 2,
        verification: { http: { url: `${demo.url}/healthz` }, window: '2s', interval: '250ms', deadline: '4s' },
      },
    ],
    escalation,
    holdAfterEscalation: '10m',
  });
}

beforeAll(async () => {
  [env, healable, stubborn, pd] = await Promise.all([devServerEnv(), startDemoService(), startDemoService(), startPagerDutyStandIn()]);
  slack = await startSlackStandIn({ botToken: TOKEN, channels: [{ id: CHANNEL, name: 'incidents' }] });
  slackProxy = await startToggleProxy({ host: '127.0.0.1', port: Number(new URL(slack.url).port) });
  pdProxy = await startToggleProxy({ host: '127.0.0.1', port: Number(pd.server.split(':')[1]) });
  agent = new Agent({ ca: pd.certs.ca });
  worker = await createMedicWorker({
    connection: env.nativeConnection,
    client: env.client,
    taskQueue,
    workflowBundle: await workflowBundle(),
    playbooks: knownPlaybooks,
    secrets: { PD_ROUTING_KEY: ROUTING_KEY },
    pagerduty: { server: `localhost:${pdProxy.port}`, agent },
    // The production client settings (src/slack/client.ts): 429s and outages retried for minutes.
    slack: { web: slackWebClient({ botToken: TOKEN, apiUrl: `http://${slackProxy.address}/api/` }), channel: CHANNEL },
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  agent?.destroy();
  await Promise.all([slackProxy?.close(), pdProxy?.close()]);
  await Promise.all([healable?.close(), stubborn?.close(), slack?.close(), pd?.close()]);
  await env?.teardown();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, get: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await get();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(250);
  }
}

async function fire(pb: Playbook, status: 'firing' | 'resolved' = 'firing'): Promise<string> {
  const r = await ingestAlerts({ client: env.client, taskQueue, playbooks: () => [pb], log: silentLog }, [
    firingAlert({ alertname: String(pb.match.alertname), service: `${pb.name}-svc` }, status),
  ]);
  return r.incidents[0]!.workflowId;
}

const handle = (id: string) => env.client.workflow.getHandle(id);
const roots = (id: string) => slack.history(CHANNEL).filter((m) => JSON.stringify(m.blocks ?? []).includes(id));
type Block = { block_id?: string; text?: { text?: string } };
const thread = (id: string) => {
  const root = roots(id)[0];
  return root ? slack.thread(CHANNEL, root.ts) : [];
};
/** Every timeline line posted in the incident's thread, in thread order. Timeline batches are
 * plain sections; other messages (escalation ladder, approval requests) carry a block_id. */
function threadLines(id: string): string[] {
  return thread(id)
    .flatMap((m) => ((m.blocks ?? []) as Block[]).filter((b) => b.block_id === undefined).map((b) => b.text?.text ?? ''))
    .flatMap((t) => t.split('\n'));
}
const messagesWithBlock = (id: string, blockId: string) =>
  thread(id).filter((m) => ((m.blocks ?? []) as Block[]).some((b) => b.block_id === blockId)).length;
const timelineLines = (t: TimelineEntry[]): string[] => t.map(entryLine);

it(`Slack down ${SLACK_OUTAGE_MS / 1000} s and PagerDuty down ${PD_OUTAGE_MS / 1000} s: incidents keep working, messages catch up in order, nothing dropped`, async () => {
  const healPb = playbook('outage-heal', healable, [{ kind: 'record', to: 'on-call' }]);
  const pagePb = playbook('outage-page', stubborn, [{ kind: 'record', to: 'on-call' }, { kind: 'pagerduty', routingKeySecret: 'PD_ROUTING_KEY' }]);
  healable.state.fault = 'outage';
  stubborn.state.fault = 'stubborn';
  await Promise.all([slackProxy.down(), pdProxy.down()]);
  const t0 = Date.now();
  const [healed, paged] = await Promise.all([fire(healPb), fire(pagePb)]);

  // With Slack and PagerDuty unreachable: one incident acts, verifies and resolves; the other
  // tries its step, fails verification and escalates (its page waiting for PagerDuty). The
  // workflows themselves stay open until their timelines are published (nothing is dropped).
  const healedFinal = await until('the healed incident to resolve', async () => {
    const s = await handle(healed).query(statusQuery);
    return s.status === 'resolved' ? s : undefined;
  }, 60_000);
  expect(healable.state.applied).toEqual({ [`${healedFinal.incidentId}:step-0:try-1`]: 1 });
  const escalated = await until('the escalation', async () => {
    const s = await handle(paged).query(statusQuery);
    return s.status === 'escalated' ? s : undefined;
  }, 60_000);
  expect(escalated.pages?.[0]).toMatchObject({ sent: false });
  const resolvedDuringOutage = Date.now() - t0;
  expect(resolvedDuringOutage, 'both incidents got this far while Slack was down').toBeLessThan(SLACK_OUTAGE_MS);
  expect(slack.messages).toHaveLength(0);
  expect(pd.events).toHaveLength(0);

  // PagerDuty comes back: the page lands (retried with backoff), then the alert resolves, and
  // the resolve goes out after the trigger.
  await sleep(Math.max(0, t0 + PD_OUTAGE_MS - Date.now()));
  await pdProxy.up();
  const pdUp = Date.now();
  await until('the page to land', async () => ((await handle(paged).query(statusQuery)).pages?.[0]?.sent ? true : undefined), 90_000);
  const pageLag = Date.now() - pdUp;
  await fire(pagePb, 'resolved');
  const pagedFinal = await until('the escalated incident to resolve', async () => {
    const s = await handle(paged).query(statusQuery);
    return s.status === 'resolved' && s.pages?.[0]?.resolved ? s : undefined;
  }, 60_000);
  const events = pd.events.filter((e) => (e.body as { dedup_key?: string }).dedup_key === pagedFinal.incidentId);
  expect(events.map((e) => [(e.body as { event_action: string }).event_action, e.status])).toEqual([
    ['trigger', 202],
    ['resolve', 202],
  ]);
  expect(pd.alertsFor(pagedFinal.incidentId).map((a) => a.status)).toEqual(['resolved']);

  // Slack comes back after its outage: both threads catch up, line for line with the timelines.
  expect(slack.messages, 'nothing reached Slack while it was down').toHaveLength(0);
  await sleep(Math.max(0, t0 + SLACK_OUTAGE_MS - Date.now()));
  await slackProxy.up();
  const slackUp = Date.now();
  const timelines = await Promise.all([healed, paged].map((id) => handle(id).query(timelineQuery)));
  await until('the threads to catch up', () => ([healed, paged].every((id, i) => threadLines(id).length >= timelines[i]!.length) ? true : undefined), 180_000);
  const catchUp = Date.now() - slackUp;
  await sleep(3_000); // anything doubled or late would show now
  for (const [i, id] of [healed, paged].entries()) {
    expect(roots(id), `one root message for ${id}`).toHaveLength(1);
    expect(threadLines(id)).toEqual(timelineLines(timelines[i]!));
  }
  expect(messagesWithBlock(paged, 'ladder'), 'the escalation ladder message, once').toBe(1);
  // Published at last, both workflows complete.
  const finals = (await Promise.all([healed, paged].map((id) => handle(id).result()))) as IncidentStatus[];
  expect(finals.map((f) => f.status)).toEqual(['resolved', 'resolved']);
  const failedCalls = slack.calls.filter((c) => !c.ok).length;
  console.log(
    [
      'outage figures',
      `  Slack down ${(SLACK_OUTAGE_MS / 1000).toFixed(0)} s, PagerDuty down ${(PD_OUTAGE_MS / 1000).toFixed(0)} s`,
      `  incidents: healed one resolved and the other escalated ${(resolvedDuringOutage / 1000).toFixed(1)} s into the outage`,
      `  PagerDuty: page landed ${(pageLag / 1000).toFixed(1)} s after recovery; events ${events.length} (trigger, resolve), dropped 0`,
      `  Slack: threads caught up ${(catchUp / 1000).toFixed(1)} s after recovery; ${timelines[0]!.length + timelines[1]!.length} timeline entries, ${slack.messages.length} messages, failed API calls ${failedCalls}; dropped 0, doubled 0, out of order 0`,
    ].join('\n'),
  );
}, 420_000);
