// medic with Slack on real parts: Temporal dev server, worker with the Slack sink, medic's HTTP
// server with the Bolt app, the Slack stand-in, and the demo service being healed. Clicks and
// commands reach Bolt as correctly signed HTTP requests from the stand-in's interactor.
import type { MedicWorker, WorkerOptions } from '../../src/temporal/worker.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { createSlackSink } from '../../src/sinks/slack/sink.js';
import type { IncidentSink } from '../../src/sinks/sink.js';
import { ConfigSchema, type Config } from '../../src/config.js';
import type { AuditLog } from '../../src/audit/log.js';
import type { IncidentStore } from '../../src/store/store.js';
import { createStoreSink } from '../../activities/store.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { slackInteractor, type SlackInteractor } from '../../dev/slack/interact.js';
import { startSlackStandIn, type SlackStandIn, type StandInMessage, type StandInOptions } from '../../dev/slack/server.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { buildServer } from '../../src/server/app.js';
import { runbookPlaybook, type Runbook } from '../../src/runbooks/schema.js';
import { slackWebClient } from '../../src/slack/client.js';
import { queryChecked, statusQuery, timelineQuery, type IncidentStatus, type TimelineEntry } from '../../workflows/contracts.js';
import { firingAlert, knownPlaybooks, silentLog } from './fixtures.js';
import { TEST_IDENTITY_KEY_TEXT } from './identity.js';
import { devServerEnv, medicWorker, uniqueQueue } from './temporal.js';

export const SLACK_INTAKE_TOKEN = 'intake-token-0123456789';
export const SLACK = {
  token: 'xoxb-medic-test-token',
  secret: 'slack-signing-secret-0123456789',
  appToken: 'xapp-medic-test-app-token',
  channel: 'C0INCIDENT',
} as const;
/** alice approves directly, bob through the @oncall group, carol may not, root is an admin. */
export const U = { alice: 'U0ALICE', bob: 'U0BOB', carol: 'U0CAROL', root: 'U0ROOT', dana: 'U0DANA' } as const;

export interface SlackMedic {
  env: TestWorkflowEnvironment;
  demo: DemoService;
  slack: SlackStandIn;
  interact: SlackInteractor;
  worker: MedicWorker;
  server: FastifyInstance;
  url: string;
  config: Config;
  taskQueue: string;
  /** The server's playbooks; start() adds the playbook it starts an incident of. */
  playbooks: Playbook[];
  start(pb: Playbook, opts?: { requestedBy?: string; labels?: Record<string, string> }): Promise<string>;
  status(workflowId: string): Promise<IncidentStatus>;
  timeline(workflowId: string): Promise<TimelineEntry[]>;
  rootOf(workflowId: string): StandInMessage | undefined;
  threadOf(workflowId: string): StandInMessage[];
  approvalMessage(workflowId: string): StandInMessage | undefined;
  stop(): Promise<void>;
}

export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/** The approval request of the incident once it carries its buttons. */
export const pendingApproval = (m: Pick<SlackMedic, 'approvalMessage'>, workflowId: string): Promise<StandInMessage> =>
  waitUntil('the approval message', () => {
    const msg = m.approvalMessage(workflowId);
    return msg && JSON.stringify(msg.blocks).includes('approve_step') ? msg : undefined;
  });

export async function startSlackMedic(
  o: {
    standIn?: Partial<StandInOptions>;
    audit?: AuditLog;
    runbooks?: Runbook[];
    socketMode?: boolean;
    /** Worker secrets and PagerDuty (the local stand-in), for escalation ladders that page. */
    secrets?: Record<string, string>;
    pagerduty?: WorkerOptions['pagerduty'];
    /** Playbooks the server loads (the intake matches alerts against them). */
    playbooks?: Playbook[];
    /** More sinks for the worker besides Slack (e.g. the audit log). */
    sinks?: IncidentSink[];
    /** Evidence sources for the worker (Kubernetes, a log store, Prometheus). */
    worker?: Partial<Pick<WorkerOptions, 'kubernetes' | 'evidence' | 'prometheusUrl'>>;
    /** Operator API users (config `operators`). */
    operators?: { user: string; token: string; admin?: boolean }[];
    /** The worker's Alertmanager (silences, the Snooze button). */
    alertmanagerUrl?: string;
    /** An incident store: the worker records into it, and incidents look up similar past ones in it. */
    store?: IncidentStore;
  } = {},
): Promise<SlackMedic> {
  const env = await devServerEnv();
  const demo = await startDemoService();
  const slack = await startSlackStandIn({
    botToken: SLACK.token,
    appToken: SLACK.appToken,
    channels: [{ id: SLACK.channel, name: 'incidents' }],
    users: Object.entries(U).map(([name, id]) => ({ id, name })),
    usergroups: [
      { id: 'S0ONCALL', handle: 'oncall', users: [U.bob] },
      { id: 'S0SREADM', handle: 'sre-admins', users: [U.dana] },
    ],
    ...o.standIn,
  });
  const taskQueue = uniqueQueue('slack');
  const web = slackWebClient({ botToken: SLACK.token, apiUrl: slack.apiUrl, retries: 10 });
  const sink = createSlackSink({ web, channel: SLACK.channel, temporalUiUrl: 'http://localhost:8233' });
  // The worker loads what the server does: its playbooks, the runbooks (as playbooks), and this process's.
  const loaded = (): Playbook[] => [...playbooks, ...(o.runbooks ?? []).map(runbookPlaybook), ...knownPlaybooks()];
  const worker = await medicWorker(env, taskQueue, o.secrets ?? {}, [sink, ...(o.sinks ?? []), ...(o.store ? [createStoreSink(o.store)] : [])], {
    playbooks: loaded,
    ...(o.pagerduty ? { pagerduty: o.pagerduty } : {}),
    ...(o.alertmanagerUrl ? { alertmanagerUrl: o.alertmanagerUrl } : {}),
    ...(o.store ? { store: o.store } : {}),
    ...o.worker,
  });
  const running = worker.run();
  const config = ConfigSchema.parse({
    http: { port: 0 },
    temporal: { taskQueue },
    intake: { alertmanagerToken: SLACK_INTAKE_TOKEN },
    identityKey: TEST_IDENTITY_KEY_TEXT,
    ...(o.operators ? { operators: o.operators } : {}),
    slack: {
      botToken: SLACK.token,
      signingSecret: SLACK.secret,
      channel: SLACK.channel,
      apiUrl: slack.apiUrl,
      admins: [U.root, '@sre-admins'],
      ...(o.socketMode ? { appToken: SLACK.appToken } : {}),
    },
  });
  // Playbooks the server knows (their owners decide who sees their incidents): those passed in,
  // plus every playbook a test starts an incident of.
  const playbooks: Playbook[] = [...(o.playbooks ?? [])];
  const server = await buildServer({ config, client: env.client, log: silentLog, playbooks: () => playbooks, ...(o.audit ? { audit: o.audit } : {}), ...(o.store ? { store: o.store } : {}), runbooks: () => o.runbooks ?? [] });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  const interact = slackInteractor({ standIn: slack, eventsUrl: `${url}/slack/events`, signingSecret: SLACK.secret, transport: o.socketMode ? 'socket' : 'http' });
  slack.connect({ eventsUrl: `${url}/slack/events`, signingSecret: SLACK.secret }); // the web page's buttons

  const rootOf = (id: string) => slack.history(SLACK.channel).find((m) => JSON.stringify(m.blocks ?? []).includes(id));
  const threadOf = (id: string) => {
    const root = rootOf(id);
    return root ? slack.thread(SLACK.channel, root.ts) : [];
  };
  return {
    env,
    demo,
    slack,
    interact,
    worker,
    server,
    url,
    config,
    taskQueue,
    playbooks,
    async start(pb, opts = {}) {
      if (!playbooks.some((p) => p.name === pb.name)) playbooks.push(pb);
      const r = await ingestAlerts(
        // With a store, incidents look up similar past ones at open, as the server's intake does.
        { client: env.client, taskQueue, playbooks: () => [pb], log: silentLog, ...(o.store ? { incidentOptions: { similar: true } } : {}) },
        [firingAlert(opts.labels)],
        opts.requestedBy ? { requestedBy: opts.requestedBy } : {},
      );
      return r.incidents[0]!.workflowId;
    },
    status: (id) => queryChecked(env.client.workflow.getHandle(id), statusQuery),
    timeline: (id) => queryChecked(env.client.workflow.getHandle(id), timelineQuery),
    rootOf,
    threadOf,
    approvalMessage: (id) => threadOf(id).find((m) => (m.blocks as { block_id?: string }[] | undefined)?.some((b) => b.block_id === 'request')),
    async stop() {
      await server.close();
      worker.shutdown();
      await running;
      await slack.close();
      await demo.close();
      await env.teardown();
    },
  };
}
