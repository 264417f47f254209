// Per-playbook rollout mode on the Temporal dev server against the real demo service:
// dry-run changes nothing and shows every step; approve-all stops before every step.
import { describe, expect, it } from 'vitest';
import { signedUpdates } from '../support/identity.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import { statusQuery, timelineQuery, type IncidentStatus } from '../../workflows/contracts.js';
import { useDemoStack } from '../support/demo-stack.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';

const dev = useDemoStack('mode');
const { taskQueue } = dev;

const twoSteps = (url: string) => [
  {
    name: 'restart',
    action: 'http' as const,
    params: { method: 'POST' as const, url: `${url}/remediate`, expectStatus: [200], dryRunHeader: 'x-dry-run' },
    retries: 0,
    verification: { http: { url: `${url}/healthz` }, window: '1s', interval: '300ms', deadline: '10s' },
  },
  {
    name: 'hard restart',
    action: 'http' as const,
    params: { method: 'POST' as const, url: `${url}/remediate?mode=hard`, expectStatus: [200] },
    retries: 0,
    verification: { http: { url: `${url}/healthz` }, window: '1s', interval: '300ms', deadline: '10s' },
  },
];

describe('playbook mode', () => {
  it('dry-run: every step reports what it would do (server-side dry run where supported), nothing changes, then escalates', async () => {
    dev.demo.state.fault = 'outage';
    const pb = demoPlaybook(dev.demo.url, { name: 'mode-dry', mode: 'dry-run', holdAfterEscalation: '1s', steps: twoSteps(dev.demo.url) });
    const r = await ingestAlerts({ client: dev.env.client, taskQueue, playbooks: () => [pb], log: silentLog }, [firingAlert()]);
    const handle = dev.env.client.workflow.getHandle(r.incidents[0]!.workflowId);
    const final = (await handle.result()) as IncidentStatus;
    expect(final.status).toBe('escalated');
    expect(final.outcome).toContain('dry-run mode: all 2 step(s) reported what they would do');
    expect(dev.demo.state.fault).toBe('outage');
    expect(dev.demo.state.applied).toEqual({});
    expect(dev.demo.state.dryRuns).toBeGreaterThanOrEqual(1);
    const text = (await handle.query(timelineQuery)).map((e) => e.message);
    expect(text.some((m) => /step 1\/2 \(restart\) finished: dry run: POST .*\/remediate → 200 \(the target's own dry run; the target says it would heal\)/.test(m))).toBe(true);
    expect(text.some((m) => /step 2\/2 \(hard restart\) finished: dry run: would POST .*mode=hard/.test(m))).toBe(true);
    expect(text.filter((m) => m === 'dry run: verification skipped')).toHaveLength(2);
  });

  it('approve-all: a step that needs no approval in auto waits for one (demotionApprovers), then runs', async () => {
    dev.demo.state.fault = 'outage';
    const pb = demoPlaybook(dev.demo.url, { name: 'mode-approve', mode: 'approve-all', demotionApprovers: ['U-LEAD'] });
    const r = await ingestAlerts({ client: dev.env.client, taskQueue, playbooks: () => [pb], log: silentLog }, [firingAlert()]);
    const handle = dev.env.client.workflow.getHandle(r.incidents[0]!.workflowId);
    const deadline = Date.now() + 60_000;
    let s: IncidentStatus | undefined;
    while (Date.now() < deadline) {
      s = await handle.query(statusQuery).catch(() => undefined);
      if (s?.status === 'awaiting_approval') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(s?.status).toBe('awaiting_approval');
    expect(s?.pendingApproval?.approvers).toEqual(['U-LEAD']);
    expect(dev.demo.state.fault).toBe('outage');
    const signed = signedUpdates(dev.env.client);
    const refused = await signed.decide(handle.workflowId, { decision: 'approve', user: 'U-OTHER' }).catch((e: Error) => e);
    expect((refused as Error & { cause?: Error }).cause?.message).toMatch(/U-OTHER may not decide step 1; approvers: U-LEAD/);
    await signed.decide(handle.workflowId, { decision: 'approve', user: 'U-LEAD' });
    const final = (await handle.result()) as IncidentStatus;
    expect(final.status).toBe('resolved');
    expect(dev.demo.state.fault).toBe('none');
  });
});
