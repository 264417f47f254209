// Attacks on approvals and Slack, sent as an attacker would: signed clicks and commands through
// real Bolt, Updates straight through the Temporal client, an alert through the real HTTP intake.
// Each asserts nothing happened at the real counterpart (the demo service counts remediations),
// what medic answered, and where the refusal was recorded (timeline, audit log).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createAuditSink } from '../../activities/audit.js';
import { auditLog, openAuditDb, type AuditLog } from '../../src/audit/log.js';
import { signIdentity } from '../../src/identity/sign.js';
import { incidentWorkflowId } from '../../src/playbooks/match.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { RunbookSchema, runbookAlert, runbookPlaybook, type Runbook } from '../../src/runbooks/schema.js';
import { decideUpdate, resolveUpdate, type DecisionInput } from '../../workflows/contracts.js';
import { approvalStep, demoPlaybook } from '../support/fixtures.js';
import { pendingApproval as pendingIn, SLACK, SLACK_INTAKE_TOKEN, startSlackMedic, U, waitUntil, type SlackMedic } from '../support/slack.js';
import type { StandInMessage } from '../../dev/slack/server.js';
import { groupOf } from '../../workflows/contracts-timeline.js';

const OPERATOR_TOKENS = { alice: 'alice-operator-token-0123456789', carol: 'carol-operator-token-0123456789' } as const;
let m: SlackMedic;
let audit: AuditLog;
let runbook: Runbook;
beforeAll(async () => {
  const db = openAuditDb(join(mkdtempSync(join(tmpdir(), 'medic-sec-approvals-')), 'audit.db'));
  audit = auditLog(db);
  runbook = RunbookSchema.parse({
    name: 'sec-restart',
    runners: [U.alice],
    params: {},
    steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: 'http://127.0.0.1:9/never' } }],
  });
  m = await startSlackMedic({
    sinks: [createAuditSink(db)],
    operators: [
      { user: U.alice, token: OPERATOR_TOKENS.alice },
      { user: U.carol, token: OPERATOR_TOKENS.carol },
    ],
    runbooks: [runbook],
    standIn: {
      usergroups: [
        { id: 'S0ONCALL', handle: 'oncall', users: [U.bob] },
        { id: 'S0SREADM', handle: 'sre-admins', users: [U.dana] },
        { id: 'S0PAYMNT', handle: 'payments', users: [U.alice] },
        { id: 'S0PLATFM', handle: 'platform', users: [U.carol] },
      ],
    },
  });
});
afterAll(async () => {
  await m?.stop();
});

let n = 0;
const approvalPlaybook = (o: { fourEyes?: boolean; approvers?: string[]; owners?: string[] } = {}): Playbook =>
  demoPlaybook(m.demo.url, {
    name: `sec-approval-${++n}`,
    ...(o.owners ? { owners: o.owners } : {}),
    steps: [approvalStep(m.demo.url, { approvers: o.approvers ?? [U.alice, '@oncall'], fourEyes: o.fourEyes ?? false })],
  });

const pendingApproval = (workflowId: string): Promise<StandInMessage> => pendingIn(m, workflowId);
/** Remediations the demo service applied for this incident (its idempotency keys hold the incident id). */
const appliedFor = (workflowId: string): number =>
  Object.entries(m.demo.state.applied).filter(([k]) => k.startsWith(workflowId)).reduce((sum, [, v]) => sum + v, 0);
const ephemeralsFor = (user: string, since = 0) => m.slack.ephemerals.slice(since).filter((e) => e.user === user).map((e) => e.text);
const end = async (id: string) => m.env.client.workflow.getHandle(id).terminate('test done').catch(() => undefined);

async function command(user: string, text: string): Promise<string> {
  const before = m.slack.ephemerals.length;
  const res = await m.interact.slashCommand(user, '/medic', text);
  expect(res.status).toBe(200);
  return (await waitUntil(`reply to /medic ${text}`, () => m.slack.ephemerals.slice(before).find((e) => e.user === user))).text;
}

describe('four-eyes: two different approvers, for alert-driven incidents too', () => {
  it('one user clicking Approve twice does not run the step; a second, different approver does (once)', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(approvalPlaybook({ fourEyes: true }));
    const request = await pendingApproval(id);
    expect(JSON.stringify(request.blocks)).toContain('four-eyes: 2 different approvers');

    await m.interact.clickButton(U.alice, request, 'approve_step');
    await waitUntil('partial approval recorded', async () => ((await m.status(id)).pendingApproval?.approvedBy?.length === 1 ? true : undefined));
    // The request shows the first approval and keeps its buttons.
    await waitUntil('request shows 1 of 2', () => {
      const msg = m.slack.message(SLACK.channel, request.ts);
      return JSON.stringify(msg?.blocks ?? []).includes('1 of 2 approvals:* <@U0ALICE>') && JSON.stringify(msg?.blocks).includes('approve_step') ? true : undefined;
    });
    const before = m.slack.ephemerals.length;
    await m.interact.clickButton(U.alice, request, 'approve_step');
    const refused = await waitUntil('second click refused', () => ephemeralsFor(U.alice, before).find((t) => t.includes('Not approved')));
    expect(refused).toContain('U0ALICE already approved step 1; it needs 2 different approvers');
    await new Promise((r) => setTimeout(r, 1_000));
    const s = await m.status(id);
    expect(s.status).toBe('awaiting_approval');
    expect(s.approval).toBeUndefined();
    expect(appliedFor(id)).toBe(0); // nothing reached the real target
    expect(m.demo.state.fault).toBe('outage');

    // bob, through the @oncall group: the second, different approver.
    await m.interact.clickButton(U.bob, request, 'approve_step');
    const done = await waitUntil('resolved', async () => ((await m.status(id)).status === 'resolved' ? m.status(id) : undefined));
    expect(done.approval).toMatchObject({ decision: 'approve', by: U.bob, with: [U.alice] });
    expect(appliedFor(id)).toBe(1);
    await waitUntil('request shows both approvers', () =>
      /Approved by <@U0ALICE> and <@U0BOB>/.test(JSON.stringify(m.slack.message(SLACK.channel, request.ts)?.blocks ?? [])) ? true : undefined,
    );
    const entries = (await m.timeline(id)).filter((e) => groupOf(e.kind) === 'approval').map((e) => e.message);
    expect(entries).toContain('step 1/1 (restart): 1 of 2 approvals: U0ALICE; four-eyes: waiting for a different approver');
    expect(entries).toContain('step 1/1 (restart) approved by U0ALICE and U0BOB (four-eyes: 2 of 2)');
    await waitUntil('audit has the partial approval', () =>
      audit.entries().find((r) => r.incidentId === done.incidentId && r.after === '1 of 2 approvals' && r.who === U.alice) ? true : undefined,
    );
  });
});

describe('identity in Updates is accepted only from medic\'s app', () => {
  it('a forged decide straight through the Temporal client (claiming U0ONCALL, unsigned or signed with another key) is refused, recorded, and nothing runs', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(approvalPlaybook({ approvers: ['U0ONCALL'] }));
    await pendingApproval(id);
    const handle = m.env.client.workflow.getHandle(id);
    const claim: DecisionInput = { decision: 'approve', user: 'U0ONCALL', step: 0 };

    const unsigned = await handle.executeUpdate(decideUpdate, { args: [claim] }).catch((e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
    expect(unsigned).toContain('identity not accepted: no identity proof');
    const { incidentId } = await m.status(id);
    const otherKey = signIdentity(randomBytes(32), 'decide', incidentId, claim);
    const wrongKey = await handle.executeUpdate(decideUpdate, { args: [otherKey] }).catch((e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
    expect(wrongKey).toContain('identity proof does not match');
    // A resolve claiming an admin would end the incident (and its page): refused the same way.
    const resolve = await handle.executeUpdate(resolveUpdate, { args: [{ user: U.root, reason: 'forged' }] }).catch((e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
    expect(resolve).toContain('identity not accepted');

    await new Promise((r) => setTimeout(r, 1_000));
    const s = await m.status(id);
    expect(s).toMatchObject({ status: 'awaiting_approval' });
    expect(s.approval).toBeUndefined();
    expect(s.resolvedBy).toBeUndefined();
    expect(appliedFor(id)).toBe(0);
    expect(m.demo.state.fault).toBe('outage');

    const forged = (await m.timeline(id)).filter((e) => e.kind === 'control.forged');
    expect(forged.map((e) => e.message)).toEqual([
      expect.stringContaining('refused a forged approval of step 1/1 (restart) claiming to be U0ONCALL: no identity proof'),
      expect.stringContaining('refused a forged approval of step 1/1 (restart) claiming to be U0ONCALL: identity proof does not match'),
      expect.stringContaining(`refused a forged resolve of the incident claiming to be ${U.root}`),
    ]);
    const records = await waitUntil('audit records the forged claims', () => {
      const r = audit.entries().filter((x) => x.incidentId === incidentId && x.after.startsWith('refused (forged'));
      return r.length === 3 ? r : undefined;
    });
    expect(records.map((r) => r.who)).toEqual(['unverified claim: U0ONCALL', 'unverified claim: U0ONCALL', `unverified claim: ${U.root}`]);
    // The incident's thread shows the refusal too.
    await waitUntil('thread shows the forged claim', () => (m.threadOf(id).some((x) => JSON.stringify(x.blocks).includes('refused a forged approval')) ? true : undefined));
    await end(id);
  });
});

describe('runbooks: only their runners may start them', () => {
  it('/medic run and a crafted modal submission by someone not in runners are refused; nothing starts', async () => {
    const wouldBe = incidentWorkflowId(runbookPlaybook(runbook), runbookAlert(runbook, {}, U.carol, Date.now()));
    const reply = await command(U.carol, 'run sec-restart');
    expect(reply).toBe(':no_entry: U0CAROL may not start runbook sec-restart; runners: U0ALICE. Nothing was started.');
    expect(m.interact.openViewFor(U.carol)).toBeUndefined(); // no modal either

    // A view_submission for the run modal, sent by carol without the command before it.
    const before = m.slack.ephemerals.length;
    const view = {
      type: 'modal',
      callback_id: 'run_runbook',
      private_metadata: JSON.stringify({ runbook: 'sec-restart', channel: SLACK.channel }),
      title: { type: 'plain_text', text: 'Run runbook' },
      blocks: [],
    };
    const viewId = 'VFORGED1';
    m.slack.views.set(viewId, { id: viewId, user: U.carol, view });
    const res = await m.interact.submitView(U.carol, viewId, {});
    expect(res.status).toBe(200);
    expect(await waitUntil('refusal', () => ephemeralsFor(U.carol, before).find((t) => t.includes('may not start')))).toContain('Nothing was started');
    await new Promise((r) => setTimeout(r, 500));
    await expect(m.env.client.workflow.getHandle(wouldBe).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('the operator API refuses a runbook start by an operator not in runners (403); a listed one starts it as themselves', async () => {
    const run = (token: string, body: unknown) =>
      fetch(`${m.url}/api/runbooks/sec-restart/run`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await run(OPERATOR_TOKENS.carol, { params: {} });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'U0CAROL may not start runbook sec-restart; runners: U0ALICE; nothing was started' });
    const wouldBe = incidentWorkflowId(runbookPlaybook(runbook), runbookAlert(runbook, {}, U.carol, Date.now()));
    await expect(m.env.client.workflow.getHandle(wouldBe).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

    const ok = await run(OPERATOR_TOKENS.alice, {});
    expect(ok.status).toBe(202);
    const started = (await ok.json()) as { workflowId: string; requestedBy: string };
    expect(started).toMatchObject({ workflowId: wouldBe, requestedBy: U.alice });
    await end(started.workflowId);
  });
});

describe('read commands show only what the user may see', () => {
  it('/medic incidents and status by a member of another team do not show the incident and say how many are hidden; App Home too', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(approvalPlaybook({ owners: ['@payments'] }));
    await waitUntil('awaiting approval', async () => (await m.status(id)).status === 'awaiting_approval');
    // alice (in @payments) sees it; carol (in @platform) does not, and is told something is hidden.
    await waitUntil('listed for alice', async () => ((await command(U.alice, 'incidents')).includes(id) ? true : undefined), 20_000);
    const carol = await command(U.carol, 'incidents');
    expect(carol).not.toContain(id);
    expect(carol).toMatch(/\d+ incidents? of other teams hidden/);
    const status = await command(U.carol, 'status');
    expect(status).not.toContain(id);
    expect(status).toMatch(/\d+ incidents? of other teams hidden/);
    expect(await command(U.carol, `status ${id}`)).toContain('belongs to another team');
    expect(await command(U.alice, `status ${id}`)).toContain('Awaiting approval');

    await m.interact.openAppHome(U.carol);
    const home = await waitUntil('carol home', () => {
      const h = JSON.stringify(m.slack.homes.get(U.carol)?.blocks ?? []);
      return h.includes('of other teams hidden') ? h : undefined;
    });
    expect(home).not.toContain(id);
    await end(id);
  });
});

describe('Slack text is escaped', () => {
  it('an alert whose summary and severity carry <!channel>, <!here>, <@U…> and a spoofed link reaches Slack as text, not as pings or links', async () => {
    const pb = demoPlaybook(m.demo.url, { name: 'sec-escape', match: { alertname: 'EscapeProbe' } });
    m.playbooks.push(pb);
    const hostile = '<!channel> <http://evil.example|click here> <@U0ROOT> & more';
    const res = await fetch(`${m.url}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SLACK_INTAKE_TOKEN}` },
      body: JSON.stringify({
        version: '4',
        groupKey: 'escape',
        status: 'firing',
        receiver: 'medic',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'EscapeProbe', service: 'escape-svc', severity: '<!here>' },
            annotations: { summary: hostile },
            startsAt: new Date().toISOString(),
          },
        ],
      }),
    });
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { incidents: { workflowId: string }[] }).incidents[0]!.workflowId;
    const root = await waitUntil('root message with the summary', () => {
      const r = m.rootOf(id);
      return r && JSON.stringify(r.blocks).includes('Summary') ? r : undefined;
    });
    expect(root.text).toContain('(&lt;!here&gt;)');
    const blocks = JSON.stringify(root.blocks);
    expect(blocks).toContain('&lt;!channel&gt; &lt;http://evil.example|click here&gt; &lt;@U0ROOT&gt; &amp; more');
    await waitUntil('thread posted', () => (m.threadOf(id).length > 0 ? true : undefined));
    // Nothing medic posted for this incident carries a live control sequence, in text or blocks.
    for (const msg of [root, ...m.threadOf(id)]) {
      for (const s of [msg.text, JSON.stringify(msg.blocks ?? [])]) {
        for (const live of ['<!channel>', '<!here>', '<@U0ROOT>', '<http://evil']) expect(s).not.toContain(live);
      }
    }
    await end(id);
  });
});
