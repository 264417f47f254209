// Real incident scenarios whose Temporal histories `npm run record:histories` saves for the
// replay-safety test (test/replay/). Each one drives a real incident on a real dev server and
// worker to its end and names the workflow runs worth keeping.
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { startDemoService, type DemoService, type Fault } from '../dev/demo-service.js';
import type { Alert } from '../src/intake/schemas.js';
import { ingestAlerts } from '../src/intake/ingest.js';
import { signIdentity } from '../src/identity/sign.js';
import { PlaybookSchema, type Playbook, type PlaybookInput } from '../src/playbooks/schema.js';
import {
  decideUpdate,
  governorWorkflowId,
  resolveUpdate,
  takeUpdate,
  setPausedUpdate,
  statusQuery,
  type IdentityKind,
  type IncidentOptions,
  type IncidentStatus,
} from '../workflows/contracts.js';

export interface ScenarioContext {
  client: Client;
  taskQueue: string;
  /** The worker's identity key: decide/take/resolve are signed with it, as medic's app does. */
  identityKey: Buffer;
  /** Demo services made for the scenario; closed by the caller. */
  demos: DemoService[];
}

/** A workflow run to save: `runId` absent means the latest run. */
export interface Recorded {
  file: string;
  workflowId: string;
  runId?: string;
  description: string;
}

export interface Scenario {
  name: string;
  /** Scenarios that touch cross-incident state (the kill switch) run alone, after the others. */
  exclusive?: boolean;
  run(ctx: ScenarioContext): Promise<Recorded[]>;
}

const silent = pino({ level: 'silent' });
export const PD_SECRET = 'PD_ROUTING_KEY';

async function demo(ctx: ScenarioContext, fault: Fault): Promise<DemoService> {
  const d = await startDemoService(0);
  d.state.fault = fault;
  ctx.demos.push(d);
  return d;
}

type HttpStepInput = Extract<PlaybookInput['steps'][number], { action: 'http' }>;

function step(d: DemoService, name: string, extra: Partial<HttpStepInput> = {}): HttpStepInput {
  return {
    name,
    action: 'http' as const,
    params: { method: 'POST', url: `${d.url}/remediate`, expectStatus: [200] },
    timeout: '5s',
    retries: 1,
    verification: { http: { url: `${d.url}/healthz` }, window: '1s', interval: '250ms', deadline: '2s' },
    ...extra,
  };
}

/** Every scenario playbook: what the recording worker loads (it runs only playbooks it loaded). */
export const SCENARIO_PLAYBOOKS: Playbook[] = [];

function playbook(name: string, input: Omit<PlaybookInput, 'name' | 'match'>): Playbook {
  const pb = PlaybookSchema.parse({
    name,
    match: { alertname: `Replay_${name.replace(/-/g, '_')}` },
    groupBy: ['alertname', 'service'],
    target: '{{labels.service}}',
    holdAfterEscalation: '1s',
    ...input,
  } as PlaybookInput);
  SCENARIO_PLAYBOOKS.push(pb);
  return pb;
}

/** A demo service that never heals and a playbook whose one restart fails, then `escalation`
 * (the incident stays open `hold` after escalating). */
async function escalating(ctx: ScenarioContext, name: string, escalation: PlaybookInput['escalation'], hold = '5m'): Promise<Playbook> {
  const d = await demo(ctx, 'stubborn');
  return playbook(name, { holdAfterEscalation: hold, steps: [step(d, 'restart')], escalation });
}

/** An outage whose one restart needs alice's approval: the incident, once it waits for her. */
async function awaitingApprovalOf(ctx: ScenarioContext, name: string, service: string, extra: Partial<HttpStepInput> = {}): Promise<{ pb: Playbook; id: string }> {
  const d = await demo(ctx, 'outage');
  const pb = playbook(name, { steps: [step(d, 'restart', { requiresApproval: true, approvers: ['alice'], ...extra })] });
  const id = await fire(ctx, pb, service);
  await waitForStatus(ctx, id, awaitingApproval, 'the approval request');
  return { pb, id };
}

function alert(pb: Playbook, service: string, status: Alert['status'] = 'firing'): Alert {
  const labels = { alertname: String(pb.match.alertname), service, severity: 'critical' };
  return {
    status,
    alertname: labels.alertname,
    severity: 'critical',
    labels,
    annotations: { summary: `${service} is down` },
    startsAt: new Date().toISOString(),
    fingerprint: '',
    source: 'alertmanager',
    receivedAt: Date.now(),
  };
}

async function fire(ctx: ScenarioContext, pb: Playbook, service: string, o: { status?: Alert['status']; options?: Partial<IncidentOptions>; requestedBy?: string } = {}): Promise<string> {
  const r = await ingestAlerts(
    { client: ctx.client, taskQueue: ctx.taskQueue, playbooks: () => [pb], log: silent, ...(o.options ? { incidentOptions: o.options } : {}) },
    [alert(pb, service, o.status)],
    o.requestedBy ? { requestedBy: o.requestedBy } : {},
  );
  const id = r.incidents[0]?.workflowId;
  if (!id) throw new Error(`no incident for ${pb.name}`);
  return id;
}

async function statusOf(ctx: ScenarioContext, id: string): Promise<IncidentStatus | undefined> {
  try {
    return await ctx.client.workflow.getHandle(id).query(statusQuery);
  } catch {
    return undefined; // not started on a worker yet
  }
}

export async function waitForStatus(ctx: ScenarioContext, id: string, ok: (s: IncidentStatus) => boolean, what: string, ms = 60_000): Promise<IncidentStatus> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await statusOf(ctx, id);
    if (s && ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`${id}: timed out waiting for ${what} (last: ${s?.status ?? 'none'})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function finished(ctx: ScenarioContext, id: string, expected: IncidentStatus['status'], outcome?: RegExp): Promise<IncidentStatus> {
  const final = (await ctx.client.workflow.getHandle(id).result()) as IncidentStatus;
  if (final.status !== expected || (outcome && !outcome.test(final.outcome ?? ''))) {
    throw new Error(`${id}: expected ${expected}${outcome ? ` (${outcome})` : ''}, got ${final.status}: ${final.outcome}`);
  }
  return final;
}

const awaitingApproval = (s: IncidentStatus): boolean => s.status === 'awaiting_approval';
/** The input signed for the incident, as medic's app signs it (src/identity/sign.ts). */
async function signed<T extends object>(ctx: ScenarioContext, kind: IdentityKind, id: string, input: T): Promise<T> {
  const { incidentId } = await ctx.client.workflow.getHandle(id).query(statusQuery);
  return signIdentity(ctx.identityKey, kind, incidentId, input);
}
const decide = async (ctx: ScenarioContext, id: string, decision: 'approve' | 'deny', user: string, reason?: string) =>
  ctx.client.workflow.getHandle(id).executeUpdate(decideUpdate, { args: [await signed(ctx, 'decide', id, { decision, user, ...(reason ? { reason } : {}) })] });

const one = (file: string, workflowId: string, description: string): Recorded[] => [{ file, workflowId, description }];

/** A scenario whose one playbook (one demo replica per fault) heals the incident. */
function healing(name: string, playbookName: string, faults: Fault[], steps: (d: DemoService[]) => HttpStepInput[], healedBy: RegExp, service: string, file: string, description: string): Scenario {
  return {
    name,
    async run(ctx) {
      const ds: DemoService[] = [];
      for (const f of faults) ds.push(await demo(ctx, f));
      const id = await fire(ctx, playbook(playbookName, { steps: steps(ds) }), service);
      await finished(ctx, id, 'resolved', healedBy);
      return one(file, id, description);
    },
  };
}

export const SCENARIOS: Scenario[] = [
  healing('healed', 'healed', ['outage'], ([d]) => [step(d!, 'restart')], /healed by step 1/, 'replay-healed', 'incident-healed', 'outage; the restart heals it; verified for the window; resolved'),
  {
    name: 'escalated-pagerduty',
    async run(ctx) {
      const d = await demo(ctx, 'stubborn');
      const pb = playbook('escalated-pd', {
        steps: [step(d, 'restart'), step(d, 'restart again')],
        escalation: [{ kind: 'record', to: 'on-call' }, { kind: 'pagerduty', routingKeySecret: PD_SECRET }],
      });
      const id = await fire(ctx, pb, 'replay-escalated');
      await finished(ctx, id, 'escalated', /all 2 step/);
      return one('incident-failed-next-step-escalated-pd', id, 'stubborn; step 1 verification fails; step 2 fails; escalated (record + PagerDuty page); hold ends');
    },
  },
  {
    name: 'escalated-then-resolved',
    async run(ctx) {
      const pb = await escalating(ctx, 'escalated-resolved', [{ kind: 'pagerduty', routingKeySecret: PD_SECRET }], '2m');
      const id = await fire(ctx, pb, 'replay-escalated-resolved');
      await waitForStatus(ctx, id, (s) => s.status === 'escalated' && (s.pages ?? []).every((p) => p.sent), 'the page to be accepted');
      await fire(ctx, pb, 'replay-escalated-resolved', { status: 'resolved' });
      await finished(ctx, id, 'resolved', /alert resolved after escalation/);
      return one('incident-escalated-pd-then-alert-resolved', id, 'escalated with a PagerDuty page; the alert resolves; the page is resolved');
    },
  },
  {
    name: 'approval-approved',
    async run(ctx) {
      const { id } = await awaitingApprovalOf(ctx, 'approval-approved', 'replay-approved', { risk: 'high' });
      await decide(ctx, id, 'approve', 'alice');
      await finished(ctx, id, 'resolved');
      return one('incident-approval-approved', id, 'high-risk step waits for approval; alice approves; acts; resolved');
    },
  },
  {
    name: 'approval-denied',
    async run(ctx) {
      const { id } = await awaitingApprovalOf(ctx, 'approval-denied', 'replay-denied');
      await decide(ctx, id, 'deny', 'alice', 'not during the release');
      await finished(ctx, id, 'escalated', /denied by alice/);
      return one('incident-approval-denied', id, 'approval denied with a reason; escalated');
    },
  },
  {
    name: 'approval-expired',
    async run(ctx) {
      const d = await demo(ctx, 'outage');
      const pb = playbook('approval-expired', { steps: [step(d, 'restart', { requiresApproval: true, approvers: ['alice'], approvalTimeout: '2s' })] });
      const id = await fire(ctx, pb, 'replay-expired');
      await finished(ctx, id, 'escalated', /expired/);
      return one('incident-approval-expired', id, 'nobody answers the approval request; it expires; escalated');
    },
  },
  {
    name: 'resolved-while-waiting',
    async run(ctx) {
      const { pb, id } = await awaitingApprovalOf(ctx, 'resolved-waiting', 'replay-resolved-waiting');
      await fire(ctx, pb, 'replay-resolved-waiting', { status: 'resolved' });
      await finished(ctx, id, 'resolved', /before medic acted/);
      return one('incident-resolved-while-awaiting-approval', id, 'the alert resolves while the approval is pending');
    },
  },
  {
    name: 'action-failed',
    async run(ctx) {
      const d = await demo(ctx, 'broken-remediation');
      const pb = playbook('action-failed', { steps: [step(d, 'restart', { retries: 0, attempts: 2 })] });
      const id = await fire(ctx, pb, 'replay-action-failed');
      await finished(ctx, id, 'escalated', /action failed/);
      return one('incident-action-failed-retried-escalated', id, 'the remediation answers 500 twice (two tries of the step); escalated');
    },
  },
  // Step 1 restarts a stubborn replica (verification fails); step 2 fails over to one a restart fixes.
  healing('verification-failed-then-healed', 'verify-then-heal', ['stubborn', 'outage'], ([d, e]) => [step(d!, 'restart'), step(e!, 'failover')], /healed by step 2/, 'replay-verify-heal', 'incident-verification-failed-next-step-healed', 'step 1 verification fails; step 2 heals; resolved'),
  {
    name: 'continue-as-new',
    async run(ctx) {
      const d = await demo(ctx, 'outage');
      const pb = playbook('continue-as-new', {
        steps: [step(d, 'restart', { verification: { http: { url: `${d.url}/healthz` }, window: '4s', interval: '200ms', deadline: '20s' } })],
      });
      const id = await fire(ctx, pb, 'replay-can', { options: { maxHistoryEvents: 60 } });
      const final = await finished(ctx, id, 'resolved');
      if (final.continuedAsNew < 1) throw new Error(`${id} never continued as new`);
      const first = (await ctx.client.workflow.getHandle(id).describe()).raw.workflowExecutionInfo?.firstRunId;
      if (!first) throw new Error(`${id}: no first run id`);
      return [
        { file: 'incident-continue-as-new-first-run', workflowId: id, runId: first, description: 'a long verification: the first run continues as new mid-verify' },
        { file: 'incident-continue-as-new-last-run', workflowId: id, description: `the last run, carrying the state (${final.continuedAsNew} continue-as-new), verifies and resolves` },
      ];
    },
  },
  {
    name: 'mode-dry-run',
    async run(ctx) {
      const d = await demo(ctx, 'outage');
      const pb = playbook('mode-dry-run', { mode: 'dry-run', steps: [step(d, 'restart'), step(d, 'restart again')] });
      const id = await fire(ctx, pb, 'replay-mode-dry-run');
      await finished(ctx, id, 'escalated', /dry-run mode: all 2 step/);
      return one('incident-mode-dry-run', id, "mode: dry-run (patched 'playbook-mode'): both steps report what they would do, nothing changes; escalated");
    },
  },
  {
    name: 'mode-approve-all',
    async run(ctx) {
      const d = await demo(ctx, 'outage');
      const pb = playbook('mode-approve-all', { mode: 'approve-all', demotionApprovers: ['U-LEAD'], steps: [step(d, 'restart')] });
      const id = await fire(ctx, pb, 'replay-mode-approve-all');
      await waitForStatus(ctx, id, awaitingApproval, 'the approval request');
      await decide(ctx, id, 'approve', 'U-LEAD');
      await finished(ctx, id, 'resolved', /healed by step 1/);
      return one('incident-mode-approve-all', id, "mode: approve-all (patched 'playbook-mode'): a step without requiresApproval waits for the demotionApprovers; approved; healed");
    },
  },
  {
    name: 'lock-wait',
    async run(ctx) {
      const [a, b] = [await demo(ctx, 'outage'), await demo(ctx, 'outage')];
      const slow = { verification: { http: { url: `${a.url}/healthz` }, window: '3s', interval: '250ms', deadline: '20s' } };
      const holder = playbook('lock-holder', { target: 'shared-db', steps: [step(a, 'restart', slow)] });
      const waiter = playbook('lock-waiter', { target: 'shared-db', steps: [step(b, 'restart')] });
      const h = await fire(ctx, holder, 'replay-lock');
      await waitForStatus(ctx, h, (s) => s.status === 'verifying', 'the holder to verify');
      const w = await fire(ctx, waiter, 'replay-lock');
      await finished(ctx, h, 'resolved');
      await finished(ctx, w, 'resolved');
      return one('incident-waited-for-target-lock', w, 'another incident holds the target lock; waits; lockFreed signal; heals');
    },
  },
  {
    name: 'kill-switch',
    exclusive: true,
    async run(ctx) {
      const d = await demo(ctx, 'outage');
      const pb = playbook('kill-switch', { steps: [step(d, 'restart', { requiresApproval: true, approvers: ['alice'] })] });
      const id = await fire(ctx, pb, 'replay-kill-switch');
      await waitForStatus(ctx, id, awaitingApproval, 'the approval request');
      const gov = ctx.client.workflow.getHandle(governorWorkflowId(ctx.taskQueue));
      await gov.executeUpdate(setPausedUpdate, { args: [{ paused: true, by: 'root', reason: 'replay recording' }] });
      await waitForStatus(ctx, id, (s) => s.pause.paused, 'the pause signal');
      await decide(ctx, id, 'approve', 'alice');
      await waitForStatus(ctx, id, (s) => s.status === 'holding', 'the kill switch hold');
      await gov.executeUpdate(setPausedUpdate, { args: [{ paused: false, by: 'root' }] });
      await finished(ctx, id, 'resolved');
      return one('incident-kill-switch-hold', id, 'paused while awaiting approval; approved; held by the kill switch; resumed; heals');
    },
  },
  {
    name: 'ladder-taken-resolved-by-hand',
    async run(ctx) {
      const pb = await escalating(ctx, 'ladder-taken', [
        { kind: 'slack-group', group: '@oncall', wait: '5m' },
        { kind: 'pagerduty', routingKeySecret: PD_SECRET },
      ]);
      const id = await fire(ctx, pb, 'replay-ladder-taken');
      const h = ctx.client.workflow.getHandle(id);
      await waitForStatus(ctx, id, (s) => s.ladder?.waiting !== undefined, 'the take request');
      await h.executeUpdate(takeUpdate, { args: [await signed(ctx, 'take', id, { user: 'U0BOB', rung: 0, via: '@oncall' })] });
      await waitForStatus(ctx, id, (s) => s.status === 'acknowledged', 'the incident to be taken');
      await h.executeUpdate(resolveUpdate, { args: [await signed(ctx, 'resolve', id, { user: 'U0BOB', reason: 'fixed by hand' })] });
      await finished(ctx, id, 'resolved', /^resolved by U0BOB/);
      return one('incident-ladder-taken-resolved-by-hand', id, 'escalated to a slack-group rung; taken (the ladder stops, no page); resolved by hand');
    },
  },
  {
    name: 'ladder-missed-paged-resolved-by-hand',
    async run(ctx) {
      const pb = await escalating(ctx, 'ladder-missed', [
        { kind: 'slack-group', group: '@oncall', wait: '2s' },
        { kind: 'pagerduty', routingKeySecret: PD_SECRET, after: '1s' },
      ]);
      const id = await fire(ctx, pb, 'replay-ladder-missed');
      await waitForStatus(ctx, id, (s) => s.ladder?.current === 2 && (s.pages ?? []).length > 0 && (s.pages ?? []).every((p) => p.sent), 'the page');
      await ctx.client.workflow.getHandle(id).executeUpdate(resolveUpdate, { args: [await signed(ctx, 'resolve', id, { user: 'alice' })] });
      await finished(ctx, id, 'resolved', /^resolved by alice$/);
      return one('incident-ladder-missed-paged-resolved-by-hand', id, 'nobody takes it within 2s; PagerDuty paged 1s later; resolved by hand, so the page is resolved');
    },
  },
  {
    name: 'playbook-registry',
    async run(ctx) {
      const d = await demo(ctx, 'outage');
      const loaded = playbook('registry', { steps: [step(d, 'restart')] });
      const healed = await fire(ctx, loaded, 'replay-registry-healed');
      await finished(ctx, healed, 'resolved', /healed by step 1/);
      // The same name, edited after the worker loaded it (not built by playbook(): not loaded).
      const edited: Playbook = { ...loaded, steps: [step(d, 'restart, edited')] as Playbook['steps'] };
      const refused = await fire(ctx, edited, 'replay-registry-refused');
      await finished(ctx, refused, 'escalated', /is not loaded by this worker/);
      return [
        { file: 'incident-registry-healed', workflowId: healed, description: "the worker's own copy of the playbook named by name + hash; healed" },
        { file: 'incident-registry-not-loaded', workflowId: refused, description: 'a hash the worker does not hold: escalated at once through its loaded version\'s ladder, nothing ran' },
      ];
    },
  },
];
