import { describe, expect, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { alertmanagerPayload } from '../../dev/health-watcher.js';
import { demoPlaybook, perFile, remediateStep } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, TOKENS } from '../support/medic.js';

const m = perFile(() =>
  startMedic({
    bodyLimitBytes: 64 * 1024,
    playbooks: (url) => [
      demoPlaybook(url, { name: 'needs-approval', match: { alertname: 'NeedsApproval' }, steps: [remediateStep(url, { name: 'guarded restart', requiresApproval: true, approvers: ['bob'] })] }),
      demoPlaybook(url),
    ],
  }),
);

const post = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${m.url}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.intake}`, ...headers },
    body,
  });

async function notStarted(service: string): Promise<void> {
  const list = await m.api('GET', '/api/incidents?all=true', TOKENS.alice);
  const rows = list.body.incidents as { service: string }[];
  expect(rows.filter((r) => r.service === service)).toEqual([]);
}

describe('POST /webhooks/alertmanager', () => {
  it('refuses a request without the bearer token (401) and with a wrong one', async () => {
    const body = JSON.stringify(alertmanagerPayload('firing', { alertname: 'DemoServiceDown', service: 'unauth' }, new Date().toISOString()));
    const none = await fetch(`${m.url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await post(body, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    await notStarted('unauth');
  });

  it('answers 400 naming the bad field, and starts nothing', async () => {
    const payload = alertmanagerPayload('firing', { alertname: 'DemoServiceDown', service: 'bad-field' }, new Date().toISOString());
    const broken = { ...payload, alerts: [{ ...payload.alerts[0], status: 'exploded' }] };
    const res = await post(JSON.stringify(broken));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; issues: { path: string; message: string }[] };
    expect(body.error).toContain('invalid Alertmanager webhook payload');
    expect(body.issues.map((i) => i.path)).toContain('alerts.0.status');
    const noVersion = await post(JSON.stringify({ ...payload, version: '3' }));
    expect(((await noVersion.json()) as { issues: { path: string }[] }).issues[0]?.path).toBe('version');
    await notStarted('bad-field');
  });

  it('answers 400 for malformed JSON and 415 for a non-JSON body', async () => {
    const res = await post('{"version": "4", ');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/JSON/i);
    const text = await post('hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
  });

  it('answers 413 past the body size limit', async () => {
    const payload = alertmanagerPayload('firing', { alertname: 'DemoServiceDown', service: 'huge' }, new Date().toISOString());
    const big = { ...payload, commonAnnotations: { padding: 'x'.repeat(100 * 1024) } };
    const res = await post(JSON.stringify(big));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toContain('payload too large');
    await notStarted('huge');
  });

  it('turns 20 copies of one alert into exactly one workflow that saw all 20', async () => {
    const labels = { alertname: 'NeedsApproval', service: 'dup-storm', severity: 'critical' };
    const responses = await Promise.all(Array.from({ length: 20 }, () => m.postAlerts('firing', labels)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    const ids = new Set(await Promise.all(responses.map(incidentIdFrom)));
    expect(ids.size).toBe(1);
    const [id] = [...ids] as [string];
    const status = await m.waitFor(id, (s) => s.alertsReceived === 20);
    expect(status.status).toBe('awaiting_approval');
    const runs = [];
    for await (const wf of m.env.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(wf.runId);
    expect(runs).toHaveLength(1);

    // a resolved alert ends the waiting incident without acting
    const resolved = await m.postAlerts('resolved', labels);
    expect(resolved.status).toBe(202);
    const final = (await m.env.client.workflow.getHandle(id).result()) as { status: string; outcome: string };
    expect(final.status).toBe('resolved');
    expect(final.outcome).toBe('alert resolved before medic acted');
    expect(Object.keys(m.demo.state.applied)).toHaveLength(0);
  });

  it('delivers the alerts one POST holds for an incident in ONE signal, and counts every one', async () => {
    // An Alertmanager notification grouped by alertname: 30 alerts of one service, 5 of another.
    const alerts = [...Array.from({ length: 30 }, (_, i) => ['batch-a', i] as const), ...Array.from({ length: 5 }, (_, i) => ['batch-b', i] as const)].map(
      ([service, i]) => alertmanagerPayload('firing', { alertname: 'NeedsApproval', service, instance: `host-${i}` }, new Date().toISOString()).alerts[0]!,
    );
    const res = await post(JSON.stringify({ ...alertmanagerPayload('firing', { alertname: 'NeedsApproval' }, new Date().toISOString()), alerts }));
    expect(res.status).toBe(202);
    const { incidents } = (await res.json()) as { incidents: { workflowId: string; alerts: number }[] };
    expect(incidents.map((i) => i.alerts)).toEqual([30, 5]);
    for (const { workflowId, alerts: n } of incidents) {
      expect((await m.waitFor(workflowId, (s) => s.alertsReceived === n)).alertsReceived).toBe(n);
      const history = await m.env.client.workflow.getHandle(workflowId).fetchHistory();
      expect(history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes).length).toBe(1);
    }
  });

  it('ignores a resolved alert when no incident is running', async () => {
    const res = await m.postAlerts('resolved', { alertname: 'DemoServiceDown', service: 'nothing-running' });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { resolvedWithoutIncident: number }).resolvedWithoutIncident).toBe(1);
    await expect(
      m.env.client.workflow.getHandle('incident:demo-down:000000000000').describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('counts alerts no playbook matches', async () => {
    const res = await m.postAlerts('firing', { alertname: 'SomethingElse', service: 'x' });
    expect(((await res.json()) as { unmatched: number }).unmatched).toBe(1);
  });
});
