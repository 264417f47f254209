// Each Slack listener called directly, as Bolt's starter template tests them: fake ack, a fake Web
// API client that records its calls, and fake listener deps (the incidents API, Temporal's status
// query, Slack group membership). What the clicker is told, what reaches the incidents API, and
// what does not. Real Bolt receiving signed requests: test/integration/slack-*.test.ts.
import { describe, expect, it } from 'vitest';
import { NotFoundError, RejectedError } from '../../src/incidents/api.js';
import type { ListenerDeps } from '../../src/slack/deps.js';
import { approveStep } from '../../src/slack/listeners/actions/approve.js';
import { denyStep } from '../../src/slack/listeners/actions/deny.js';
import { resolveIncident } from '../../src/slack/listeners/actions/resolve.js';
import { takeIncident } from '../../src/slack/listeners/actions/take.js';
import { togglePause } from '../../src/slack/listeners/actions/toggle-pause.js';
import { medicCommand } from '../../src/slack/listeners/commands/medic.js';
import { appHomeOpened } from '../../src/slack/listeners/events/app-home-opened.js';
import { denyReasonSubmitted } from '../../src/slack/listeners/views/deny-reason.js';
import { runRunbookSubmitted } from '../../src/slack/listeners/views/run-runbook.js';
import { RunbookSchema } from '../../src/runbooks/schema.js';
import { DENY_REASON_ACTION, DENY_REASON_BLOCK, encodeRef } from '../../src/slack/ui/approval.js';
import { HELP } from '../../src/slack/ui/command.js';
import { encodeLadderRef } from '../../src/slack/ui/ladder.js';
import { PARAM_ACTION } from '../../src/slack/ui/runbook.js';
import type { IncidentStatus } from '../../workflows/contracts.js';
import { silentLog } from '../support/fixtures.js';

type Call = { method: string; args: Record<string, unknown> };
const WF = 'incident:demo-down:abc';

/** The Web API client a listener gets: every call recorded, each answered { ok: true }. */
function fakeSlack() {
  const calls: Call[] = [];
  const rec = (method: string) => async (args: Record<string, unknown>) => {
    calls.push({ method, args });
    return { ok: true };
  };
  const acks: unknown[] = [];
  return {
    calls,
    acks,
    ack: async (response?: unknown) => void acks.push(response),
    client: { chat: { postEphemeral: rec('chat.postEphemeral'), update: rec('chat.update') }, views: { open: rec('views.open'), publish: rec('views.publish') } },
    told: () => calls.filter((c) => c.method === 'chat.postEphemeral').map((c) => String(c.args.text)),
    of: (method: string) => calls.filter((c) => c.method === method),
  };
}

interface DepsScript {
  status?: Partial<IncidentStatus>;
  /** What the incidents API answers (or throws) for an Update. */
  update?: () => unknown;
  admins?: string[];
  /** Slack user-group handle → its members. */
  groups?: Record<string, string[]>;
}

const BASE_STATUS: IncidentStatus = {
  incidentId: 'incident:demo-down:abc:run',
  status: 'awaiting_approval',
  phase: 'approval',
  stepIndex: 0,
  stepTry: 1,
  alertsReceived: 1,
  fingerprints: {},
  resolvedByAlert: false,
  pause: { paused: false },
  lockHeld: true,
  calls: 1,
  acted: false,
  escalationSent: false,
  startedAt: 0,
  timelineDropped: 0,
  publishedSeq: 0,
  continuedAsNew: 0,
  workflowId: 'incident:demo-down:abc',
  playbook: 'demo-down',
  service: 'demo',
  severity: 'critical',
  target: 'demo',
  alertname: 'DemoServiceDown',
};

/** Listener deps with the incidents API and Temporal's status query as plain functions. */
function fakeDeps(s: DepsScript = {}) {
  const api: { method: string; args: unknown[] }[] = [];
  const answer = (method: string) => async (...args: unknown[]) => {
    api.push({ method, args });
    return s.update ? s.update() : { by: args[1] && (args[1] as { user?: string }).user, at: 1 };
  };
  const groupVia = async (list: string[], user: string) => list.find((g) => s.groups?.[g]?.includes(user));
  const deps = {
    api: {
      decide: answer('decide'),
      take: answer('take'),
      resolve: answer('resolve'),
      setPaused: async (paused: boolean, by: string, reason?: string) => {
        api.push({ method: 'setPaused', args: [paused, by, reason] });
        return { paused, by };
      },
      list: async () => [],
      detail: async (id: string) => {
        throw new NotFoundError(`no incident ${id}`);
      },
      governorState: async () => ({ pause: { paused: false } }),
    },
    client: {
      workflow: {
        // A whole status, as the contract has it: the listeners check the answer (queryChecked).
        getHandle: () => ({ query: async () => ({ ...BASE_STATUS, ...s.status }) }),
        list: async function* () {},
      },
    },
    taskQueue: 'medic',
    access: { groupVia, allowed: async (list: string[], user: string) => list.includes(user) || (await groupVia(list, user)) !== undefined },
    admins: s.admins ?? ['U-ADMIN'],
    log: silentLog,
    runbooks: () => [],
    playbooks: () => [],
  };
  return { deps: deps as unknown as ListenerDeps, api };
}

const button = (slack: ReturnType<typeof fakeSlack>, user: string, value: string) => ({
  ack: slack.ack,
  client: slack.client,
  body: { user: { id: user }, channel: { id: 'C-INC' }, container: { channel_id: 'C-INC', message_ts: '1.1' }, message: { ts: '1.1', blocks: [] }, trigger_id: 'T-1' },
  action: { value },
});
/** Calls a listener with fake arguments (the listener's own argument type is Bolt's, much wider). */
const call = <A>(listener: (args: A) => Promise<void>, args: unknown): Promise<void> => listener(args as A);

const pending = { step: 0, stepName: 'restart', what: 'POST /remediate', risk: 'high' as const, approvers: ['alice'], fourEyes: false, requestedAt: 0, expiresAt: 1 };

describe('Approve button', () => {
  it('acks, sends the decision with the step and request the button carries, and tells the clicker nothing more', async () => {
    const slack = fakeSlack();
    const { deps, api } = fakeDeps({ status: { pendingApproval: pending } });
    await call(approveStep(deps), button(slack, 'alice', encodeRef({ workflowId: WF, step: 0, request: 7 })));
    expect(slack.acks).toHaveLength(1);
    expect(api).toEqual([{ method: 'decide', args: [WF, { decision: 'approve', user: 'alice', step: 0, request: 7 }] }]);
    expect(slack.told()).toEqual([]);
  });

  it("the workflow's refusal reaches only the clicker, escaped, and says nothing changed", async () => {
    const slack = fakeSlack();
    const { deps } = fakeDeps({ update: () => { throw new RejectedError('mallory may not decide step 1; approvers: <alice>'); } });
    await call(approveStep(deps), button(slack, 'mallory', encodeRef({ workflowId: WF, step: 0 })));
    expect(slack.told()).toEqual([':no_entry: Not approved: mallory may not decide step 1; approvers: &lt;alice&gt;. Nothing was changed.']);
    expect(slack.of('chat.update')).toEqual([]);
  });

  it('a button without an incident reference changes nothing', async () => {
    const slack = fakeSlack();
    const { deps, api } = fakeDeps();
    await call(approveStep(deps), button(slack, 'alice', 'not json'));
    expect(slack.told()).toEqual([':warning: This button carries no incident reference; nothing was changed.']);
    expect(api).toEqual([]);
  });

  it('an incident that ended, or Temporal failing, is told to the clicker', async () => {
    const ended = fakeSlack();
    await call(approveStep(fakeDeps({ update: () => { throw new NotFoundError('gone'); } }).deps), button(ended, 'alice', encodeRef({ workflowId: WF, step: 0 })));
    expect(ended.told()).toEqual([':information_source: This incident is no longer running; nothing was changed.']);
    const down = fakeSlack();
    await call(approveStep(fakeDeps({ update: () => { throw new Error('14 UNAVAILABLE'); } }).deps), button(down, 'alice', encodeRef({ workflowId: WF, step: 0 })));
    expect(down.told()).toEqual([':warning: medic could not record your approval right now (Temporal unreachable?). Please try again.']);
  });

  it('a four-eyes step still waiting for a second approver says so', async () => {
    const slack = fakeSlack();
    const { deps } = fakeDeps({ status: { pendingApproval: { ...pending, fourEyes: true } }, update: () => ({ by: 'alice', at: 1, complete: false, approvals: ['alice'], needed: 2 }) });
    await call(approveStep(deps), button(slack, 'alice', encodeRef({ workflowId: WF, step: 0 })));
    expect(slack.told()).toEqual([':ballot_box_with_check: Your approval is recorded (1 of 2); four-eyes: a different approver must approve too.']);
  });
});

describe('Deny button and its reason modal', () => {
  it('the button opens the reason modal with the trigger id and the incident reference', async () => {
    const slack = fakeSlack();
    const { deps, api } = fakeDeps();
    await call(denyStep(deps), button(slack, 'alice', encodeRef({ workflowId: WF, step: 0, request: 7 })));
    expect(slack.acks).toHaveLength(1);
    const [open] = slack.of('views.open');
    expect(open!.args.trigger_id).toBe('T-1');
    expect(JSON.parse((open!.args.view as { private_metadata: string }).private_metadata)).toMatchObject({ workflowId: WF, step: 0, request: 7, channel: 'C-INC', ts: '1.1' });
    expect(api).toEqual([]);
  });

  const submission = (slack: ReturnType<typeof fakeSlack>, reason: string, meta: unknown = { workflowId: WF, step: 0, request: 7, channel: 'C-INC', ts: '1.1' }) => ({
    ack: slack.ack,
    client: slack.client,
    body: { user: { id: 'bob' } },
    view: { private_metadata: typeof meta === 'string' ? meta : JSON.stringify(meta), state: { values: { [DENY_REASON_BLOCK]: { [DENY_REASON_ACTION]: { value: reason } } } } },
  });

  it('a reason shorter than 3 characters is a field error, nothing is sent', async () => {
    const slack = fakeSlack();
    const { deps, api } = fakeDeps();
    await call(denyReasonSubmitted(deps), submission(slack, ' x '));
    expect(slack.acks).toEqual([{ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: 'Please say why (at least 3 characters).' } }]);
    expect(api).toEqual([]);
  });

  it('a valid reason closes the modal at once and denies with it; a refusal reaches the clicker in the thread', async () => {
    const ok = fakeSlack();
    const { deps, api } = fakeDeps();
    await call(denyReasonSubmitted(deps), submission(ok, 'not during the sale'));
    expect(ok.acks).toEqual([undefined]);
    expect(api).toEqual([{ method: 'decide', args: [WF, { decision: 'deny', user: 'bob', reason: 'not during the sale', step: 0, request: 7 }] }]);
    expect(ok.told()).toEqual([]);
    const refused = fakeSlack();
    await call(denyReasonSubmitted(fakeDeps({ update: () => { throw new RejectedError('already decided'); } }).deps), submission(refused, 'not now'));
    expect(refused.acks).toEqual([undefined]);
    expect(refused.of('chat.postEphemeral').map((c) => [c.args.user, c.args.channel, c.args.thread_ts, c.args.text])).toEqual([
      ['bob', 'C-INC', '1.1', ':no_entry: Not denied: already decided. Nothing was changed.'],
    ]);
  });

  it('a form without its incident reference is refused in the modal', async () => {
    const slack = fakeSlack();
    const { deps, api } = fakeDeps();
    await call(denyReasonSubmitted(deps), submission(slack, 'because', '{broken'));
    expect(slack.acks).toEqual([{ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: 'This form lost its incident reference; nothing was changed.' } }]);
    expect(api).toEqual([]);
  });
});

describe('Take it / Resolve on the escalation ladder', () => {
  const waiting: Partial<IncidentStatus> = {
    status: 'escalated',
    ladder: { rungs: ['slack-group @oncall'], groups: ['@oncall'], current: 0, startedAt: 0, waiting: { rung: 0, group: '@oncall', since: 0, until: 1 }, missed: [] },
  };

  it('a member of the rung’s group takes the incident, via the group', async () => {
    const slack = fakeSlack();
    const { deps, api } = fakeDeps({ status: waiting, groups: { '@oncall': ['bob'] } });
    await call(takeIncident(deps), button(slack, 'bob', encodeLadderRef({ workflowId: WF, rung: 0 })));
    expect(api).toEqual([{ method: 'take', args: [WF, { user: 'bob', rung: 0, via: '@oncall' }] }]);
    expect(slack.told()).toEqual([]);
  });

  it('anyone else is told who may, and nothing is sent', async () => {
    const slack = fakeSlack();
    const { deps, api } = fakeDeps({ status: waiting, groups: { '@oncall': ['bob'] } });
    await call(takeIncident(deps), button(slack, 'eve', encodeLadderRef({ workflowId: WF, rung: 0 })));
    expect(slack.told()).toEqual([':no_entry: Only members of @oncall (or medic admins) may take this incident. Nothing was changed.']);
    expect(api).toEqual([]);
  });

  it('a ladder reference without a rung cannot be taken', async () => {
    const slack = fakeSlack();
    const { deps, api } = fakeDeps({ status: waiting });
    await call(takeIncident(deps), button(slack, 'bob', encodeLadderRef({ workflowId: WF })));
    expect(slack.told()).toEqual([':warning: This button carries no incident reference; nothing was changed.']);
    expect(api).toEqual([]);
  });

  it('resolve: the owner, a ladder group member or an admin may; anyone else may not', async () => {
    const owned: Partial<IncidentStatus> = { ...waiting, owner: { by: 'carol', at: 1, rung: 0 } };
    for (const user of ['carol', 'bob', 'U-ADMIN']) {
      const slack = fakeSlack();
      const { deps, api } = fakeDeps({ status: owned, groups: { '@oncall': ['bob'] } });
      await call(resolveIncident(deps), button(slack, user, encodeLadderRef({ workflowId: WF })));
      expect(api).toEqual([{ method: 'resolve', args: [WF, { user, reason: 'resolved from Slack' }] }]);
    }
    const slack = fakeSlack();
    const { deps, api } = fakeDeps({ status: owned, groups: { '@oncall': ['bob'] } });
    await call(resolveIncident(deps), button(slack, 'eve', encodeLadderRef({ workflowId: WF })));
    expect(slack.told()).toEqual([':no_entry: Only whoever took the incident, members of its escalation groups or medic admins may resolve it. Nothing was changed.']);
    expect(api).toEqual([]);
  });
});

describe('App Home', () => {
  it('opening Home publishes the view for that user; other tabs publish nothing', async () => {
    const slack = fakeSlack();
    const { deps } = fakeDeps();
    await call(appHomeOpened(deps), { event: { tab: 'messages', user: 'alice' }, client: slack.client });
    expect(slack.of('views.publish')).toEqual([]);
    await call(appHomeOpened(deps), { event: { tab: 'home', user: 'alice' }, client: slack.client });
    expect(slack.of('views.publish').map((c) => c.args.user_id)).toEqual(['alice']);
  });

  it('the kill-switch button pauses for an admin; anyone else sees why on their Home, nothing changes', async () => {
    const admin = fakeSlack();
    const { deps, api } = fakeDeps();
    await call(togglePause(deps), button(admin, 'U-ADMIN', 'pause'));
    expect(api).toEqual([{ method: 'setPaused', args: [true, 'U-ADMIN', 'paused from App Home'] }]);
    expect(JSON.stringify(admin.of('views.publish')[0]!.args.view)).toContain('You paused automation.');
    const other = fakeSlack();
    const second = fakeDeps();
    await call(togglePause(second.deps), button(other, 'eve', 'pause'));
    expect(second.api).toEqual([]);
    expect(JSON.stringify(other.of('views.publish')[0]!.args.view)).toContain('Only medic admins may pause automation; nothing was changed.');
  });
});

describe('/medic', () => {
  const command = (slack: ReturnType<typeof fakeSlack>, user: string, text: string) => ({
    ack: slack.ack,
    client: slack.client,
    command: { user_id: user, channel_id: 'C-OPS', text, trigger_id: 'T-2' },
  });

  it('help, and an unknown subcommand with the usage, only to the one who typed it', async () => {
    const slack = fakeSlack();
    const { deps } = fakeDeps();
    await call(medicCommand(deps), command(slack, 'alice', ''));
    await call(medicCommand(deps), command(slack, 'alice', 'frobnicate'));
    expect(slack.told()).toEqual([HELP, `Unknown subcommand \`frobnicate\`.\n${HELP}`]);
    expect(slack.of('chat.postEphemeral').every((c) => c.args.user === 'alice' && c.args.channel === 'C-OPS')).toBe(true);
  });

  it('pause and resume are for admins (by id or group); everyone else is refused', async () => {
    const slack = fakeSlack();
    const { deps, api } = fakeDeps({ admins: ['U-ADMIN', '@sre-admins'], groups: { '@sre-admins': ['sam'] } });
    await call(medicCommand(deps), command(slack, 'eve', 'pause now'));
    expect(api).toEqual([]);
    await call(medicCommand(deps), command(slack, 'U-ADMIN', 'pause bad rollout'));
    await call(medicCommand(deps), command(slack, 'sam', 'resume'));
    expect(api).toEqual([
      { method: 'setPaused', args: [true, 'U-ADMIN', 'bad rollout'] },
      { method: 'setPaused', args: [false, 'sam', undefined] },
    ]);
    expect(slack.told()).toEqual([
      ':no_entry: Only medic admins may pause automation (admins: U-ADMIN, @sre-admins). Nothing was changed.',
      ':octagonal_sign: Automation paused: bad rollout.',
      ':large_green_circle: Automation resumed.',
    ]);
  });

  it('status of an unknown incident answers with the API’s reason', async () => {
    const slack = fakeSlack();
    const { deps } = fakeDeps();
    await call(medicCommand(deps), command(slack, 'alice', 'status incident:nope'));
    expect(slack.told()).toEqual([':grey_question: no incident incident:nope']);
  });

  it('run: an unknown runbook lists the known ones; nothing starts', async () => {
    const slack = fakeSlack();
    const { deps } = fakeDeps();
    await call(medicCommand(deps), command(slack, 'alice', 'run nope'));
    expect(slack.told()).toEqual(['No runbook `nope`. Runbooks: none configured.']);
    expect(slack.of('views.open')).toEqual([]);
  });
});

describe('/medic run modal submission', () => {
  const rb = RunbookSchema.parse({
    name: 'flush-cache',
    description: 'Flush a cache',
    runners: ['alice'],
    params: { service: { description: 'which service', pattern: '^[a-z-]+$' } },
    steps: [{ name: 'flush', action: 'http', params: { method: 'POST', url: 'http://cache.invalid/flush' } }],
  });
  const submit = (slack: ReturnType<typeof fakeSlack>, user: string, values: Record<string, string>, runbook = 'flush-cache') => ({
    ack: slack.ack,
    client: slack.client,
    body: { user: { id: user } },
    view: {
      private_metadata: JSON.stringify({ runbook, channel: 'C-OPS' }),
      state: { values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { [PARAM_ACTION]: { value: v } }])) },
    },
  });
  const withRunbook = () => {
    const f = fakeDeps();
    (f.deps as { runbooks: () => unknown[] }).runbooks = () => [rb];
    return f;
  };

  it('someone the runbook does not list is told so; nothing starts', async () => {
    const slack = fakeSlack();
    await call(runRunbookSubmitted(withRunbook().deps), submit(slack, 'eve', { service: 'web' }));
    expect(slack.acks).toEqual([undefined]);
    expect(slack.told()).toEqual([':no_entry: eve may not start runbook flush-cache; runners: alice. Nothing was started.']);
  });

  it('an unknown runbook closes with no field errors; a value against the schema is a field error', async () => {
    const unknown = fakeSlack();
    await call(runRunbookSubmitted(withRunbook().deps), submit(unknown, 'alice', {}, 'nope'));
    expect(unknown.acks).toEqual([{ response_action: 'errors', errors: {} }]);
    const bad = fakeSlack();
    await call(runRunbookSubmitted(withRunbook().deps), submit(bad, 'alice', { service: 'Not Valid!' }));
    const [answer] = bad.acks as { response_action: string; errors: Record<string, string> }[];
    expect(answer!.response_action).toBe('errors');
    expect(Object.keys(answer!.errors)).toEqual(['service']);
    expect(answer!.errors.service).toContain('must match ^[a-z-]+$');
    expect(bad.told()).toEqual([]);
  });
});
