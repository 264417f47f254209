// The OPA policy gate end to end: alerts through medic's real intake (startMedic: HTTP webhook,
// Temporal dev server, worker), OPA as a real server (the pinned binary, REST Data API) and as a
// Wasm bundle in process, the Slack sink posting into the Slack stand-in. A policy's approval
// names its groups, a deny escalates with its reasons; a broken policy, an answer of the wrong
// shape and an unreachable OPA each escalate with a reason naming the file/field, and nothing
// is changed (the demo service is never called).
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opaServer, opaWasm } from '../../activities/opa.js';
import { startSlackStandIn, type SlackStandIn } from '../../dev/slack/server.js';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import { createSlackSink } from '../../src/sinks/slack/sink.js';
import { slackWebClient } from '../../src/slack/client.js';
import { isKind, type EntryOf } from '../../workflows/contracts-timeline.js';
import { testPlaybook } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, type Medic } from '../support/medic.js';
import { Worker } from '@temporalio/worker';
import { createTarGzip, parseTarGzip } from 'nanotar';
import { startOpaBackends, type OpaBackends } from '../support/opa.js';
import { workflowBundle } from '../support/temporal.js';

const DECISION = 'medic/remediation/decision';
const CHANNEL = 'C0OPA';
let m: Medic;
let slack: SlackStandIn;
let policies: OpaBackends;
/** Incidents whose histories are replayed at the end (the decision is recorded, never asked again). */
const decided: string[] = [];

beforeAll(async () => {
  [policies, slack] = await Promise.all([
    startOpaBackends([DECISION]),
    startSlackStandIn({ botToken: 'xoxb-opa-test', channels: [{ id: CHANNEL, name: 'incidents' }] }),
  ]);
  // A rule that answers in the wrong shape, loaded through OPA's Policy API.
  expect((await policies.server.putPolicy('broken.rego', 'package medic.broken\n\ndecision := {"outcome": "maybe"}\n')).status).toBe(200);
  const sink = createSlackSink({ web: slackWebClient({ botToken: 'xoxb-opa-test', apiUrl: slack.apiUrl, retries: 5 }), channel: CHANNEL });
  m = await startMedic({ opa: { server: opaServer({ url: policies.server.url }), wasm: opaWasm({ bundle: policies.bundle }) }, sinks: [sink] });
}, 120_000);
afterAll(async () => {
  await m?.stop();
  await Promise.all([policies?.stop(), slack?.close()]);
});

type Step = PlaybookInput['steps'][number];
/** A playbook whose one step asks OPA; the alert name is the playbook's own. */
function opaPlaybook(name: string, step: Partial<Step> & Pick<Step, 'policy'>, target = 'k8s/shop/rollout/{{labels.service}}') {
  const alertname = name.replace(/(^|-)(\w)/g, (_, _d: string, c: string) => c.toUpperCase());
  const pb = testPlaybook({
    name,
    match: { alertname },
    groupBy: ['alertname', 'service'],
    target,
    holdAfterEscalation: '1s',
    steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${m.demo.url}/remediate`, expectStatus: [200] }, retries: 0, ...step } as Step],
  });
  m.playbooks.push(pb);
  return { pb, alertname };
}

async function open(alertname: string, labels: Record<string, string> = {}): Promise<string> {
  const res = await m.postAlerts('firing', { alertname, service: `svc-${Math.random().toString(36).slice(2, 8)}`, severity: 'warning', ...labels });
  expect(res.status).toBe(202);
  return incidentIdFrom(res);
}
const policyEntry = async (id: string): Promise<EntryOf<'gate.policy'>> => (await m.timeline(id)).find(isKind('gate.policy'))!;
/** The thread's messages as a person reads them: the text, then each block's mrkdwn text (and
 * the buttons' action ids), one per line. */
const threadText = (id: string): string[] => {
  const root = slack.history(CHANNEL).find((msg) => JSON.stringify(msg.blocks ?? []).includes(id));
  type Block = { text?: { text?: string }; elements?: { action_id?: string }[] };
  const lines = (b: Block): string[] => [...(b.text?.text ? [b.text.text] : []), ...(b.elements ?? []).flatMap((e) => (e.action_id ? [`[button ${e.action_id}]`] : []))];
  return root ? slack.thread(CHANNEL, root.ts).map((msg) => [msg.text ?? '', ...((msg.blocks ?? []) as Block[]).flatMap(lines)].join('\n')) : [];
};
async function inThread(id: string, needle: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const hit = threadText(id).find((t) => t.includes(needle));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`"${needle}" not in the Slack thread of ${id}: ${threadText(id).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('OPA policy gate through the intake', () => {
  it('server: a critical rollback needs the approval of the groups the policy names; the Slack thread shows the decision and the request', async () => {
    const { alertname } = opaPlaybook('opa-approve', {
      name: 'abort canary',
      action: 'kubernetes',
      params: { operation: 'rollout-abort', namespace: 'shop', name: 'web' },
      risk: 'high',
      policy: { decision: DECISION, backend: 'server' },
    } as Partial<Step> & Pick<Step, 'policy'>);
    const id = await open(alertname, { severity: 'critical' });
    const s = await m.waitFor(id, (x) => x.status === 'awaiting_approval');
    expect(s.pendingApproval).toMatchObject({ approvers: ['@sre-leads'], policy: { decision: DECISION, hash: expect.stringMatching(/^[0-9a-f]{64}$/), reasons: ['major incident (critical alert, 1 open incidents): an automated rollout-abort needs approval'] } });
    const e = await policyEntry(id);
    expect(e.data.policy).toMatchObject({ backend: 'server', outcome: 'require_approval', approvers: ['@sre-leads'] });
    const message = await inThread(id, 'policy medic/remediation/decision');
    const line = message.split('\n').find((l) => l.includes('policy medic/remediation/decision'))!;
    expect(line).toMatch(/REQUIRE APPROVAL by @sre-leads: major incident \(critical alert, 1 open incidents\): an automated rollout-abort needs approval$/);
    const request = await inThread(id, 'Required by policy');
    expect(request).toContain('[button approve_step]');
    expect(request).toContain('*Who may approve:* @sre-leads');
    expect(request).toMatch(/\*Required by policy\* `medic\/remediation\/decision` \(sha256 [0-9a-f]{12}\): major incident \(critical alert, 1 open incidents\): an automated rollout-abort needs approval/);
    decided.push(id);
  });

  it('wasm: a deny (never touch kube-system) escalates with the policy\'s reasons; nothing is called', async () => {
    const { alertname } = opaPlaybook('opa-deny', { policy: { decision: DECISION, backend: 'wasm' } }, 'k8s/kube-system/deployment/{{labels.service}}');
    const id = await open(alertname);
    const s = await m.waitFor(id, (x) => x.status === 'escalated');
    expect(s.escalationReason).toMatch(/^policy medic\/remediation\/decision denied step 1\/1 \(restart\): medic never touches namespace kube-system \(target k8s\/kube-system\/deployment\/svc-\w+\)$/);
    expect((await policyEntry(id)).data.policy).toMatchObject({ backend: 'wasm', outcome: 'deny', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await m.timeline(id)).some(isKind('action.started'))).toBe(false);
    expect(m.demo.state.applied).toEqual({});
    await inThread(id, 'DENY: medic never touches namespace kube-system');
    decided.push(id);
  });

  it('an answer of the wrong shape escalates naming the rule and field, even with onError: allow', async () => {
    const { alertname } = opaPlaybook('opa-shape', { policy: { decision: 'medic/broken/decision', backend: 'server', onError: 'allow' } });
    const id = await open(alertname);
    const s = await m.waitFor(id, (x) => x.status === 'escalated');
    expect(s.escalationReason).toBe(
      `policy medic/broken/decision denied step 1/1 (restart): OPA gave no decision: OPA server ${policies.server.url}, rule data.medic.broken.decision answered in the wrong shape: result.outcome: Invalid discriminator value. Expected 'allow' | 'deny' | 'require_approval'`,
    );
    expect((await policyEntry(id)).data.policy.error).toEqual({ kind: 'invalid', message: expect.stringContaining('result.outcome'), rule: 'a broken policy or answer always denies' });
    expect(m.demo.state.applied).toEqual({});
  });

  it('a bundle whose policy does not compile escalates naming the file, even with onError: allow', async () => {
    const good = await readFile(policies.bundle);
    const { alertname } = opaPlaybook('opa-compile', { policy: { decision: DECISION, backend: 'wasm', onError: 'allow' } });
    // The same bundle with a policy.wasm that does not compile.
    const files = await parseTarGzip(good);
    await writeFile(policies.bundle, await createTarGzip(files.map((f) => ({ name: f.name, data: f.name.endsWith('policy.wasm') ? new TextEncoder().encode('\0asm broken') : f.data! }))));
    try {
      const id = await open(alertname);
      const s = await m.waitFor(id, (x) => x.status === 'escalated');
      expect(s.escalationReason).toMatch(new RegExp(`^policy medic/remediation/decision denied step 1/1 \\(restart\\): OPA gave no decision: policy bundle ${policies.bundle}: /policy\\.wasm does not compile: `));
      expect((await policyEntry(id)).data.policy.error).toMatchObject({ kind: 'invalid', rule: 'a broken policy or answer always denies' });
      expect(m.demo.state.applied).toEqual({});
    } finally {
      await writeFile(policies.bundle, good);
    }
  });

  it('OPA unreachable: a high-risk step fails closed and escalates; a low-risk step with onError: allow acts, each with a clear timeline entry', async () => {
    await policies.server.stop();
    const high = opaPlaybook('opa-down-high', { risk: 'high', policy: { decision: DECISION, backend: 'server', timeout: '1s' } });
    const low = opaPlaybook('opa-down-low', { policy: { decision: DECISION, backend: 'server', onError: 'allow', timeout: '1s' } });
    m.demo.state.fault = 'outage';
    const [hi, lo] = await Promise.all([open(high.alertname), open(low.alertname)]);
    const h = await m.waitFor(hi, (x) => x.status === 'escalated');
    expect(h.escalationReason).toBe(`policy medic/remediation/decision denied step 1/1 (restart): OPA gave no decision: OPA server ${policies.server.url}, rule data.medic.remediation.decision: ECONNREFUSED`);
    expect((await policyEntry(hi)).message).toBe(
      `step 1/1 (restart): policy medic/remediation/decision (server): DENY: OPA gave no decision: OPA server ${policies.server.url}, rule data.medic.remediation.decision: ECONNREFUSED [risk: high fails closed]`,
    );
    const l = await m.waitFor(lo, (x) => x.status === 'resolved');
    expect(l.outcome).toBe('step 1/1 (restart) succeeded (no verification configured)');
    expect((await policyEntry(lo)).data.policy).toMatchObject({ outcome: 'allow', error: { kind: 'unavailable', rule: 'onError: allow' } });
    expect(Object.keys(m.demo.state.applied)).toHaveLength(1);
    decided.push(hi, lo);
  });

  it('replay: the recorded decisions replay against the workflow code with OPA gone (no nondeterminism)', async () => {
    const { code } = await workflowBundle();
    for (const id of decided) {
      const history = await m.env.client.workflow.getHandle(id).fetchHistory();
      expect(history.events?.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'opaDecide')).toBe(true);
      await Worker.runReplayHistory({ workflowBundle: { code }, replayName: 'opa-gate' }, history, id);
    }
    expect(decided).toHaveLength(4);
  });
});
