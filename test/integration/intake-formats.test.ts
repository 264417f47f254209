// Grafana and generic webhooks, bearer or HMAC-signed (with replay protection), into the same
// incidents as Alertmanager alerts.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPlaybook } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, TOKENS, type Medic } from '../support/medic.js';

const SECRET = 'hmac-secret-0123456789abcdef';
let m: Medic;
beforeAll(async () => {
  m = await startMedic({ hmacSecret: SECRET });
  m.playbooks.push(
    demoPlaybook(m.demo.url, {
      name: 'formats',
      match: { alertname: ['CheckoutErrors', 'GrafanaHighLatency'] },
      groupBy: ['service'],
      steps: [{ name: 'guarded', action: 'http', params: { method: 'POST', url: `${m.demo.url}/remediate` }, requiresApproval: true, approvers: ['bob'] }],
    }),
  );
});
afterAll(() => m?.stop());

const send = (path: string, body: unknown, headers: Record<string, string>): Promise<Response> =>
  fetch(`${m.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

const medicSigned = (body: string, ts = Math.floor(Date.now() / 1000)): Record<string, string> => ({
  'x-medic-timestamp': String(ts),
  'x-medic-signature': `sha256=${createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`,
});

const grafanaPayload = (status: 'firing' | 'resolved', service: string) => ({
  version: '1',
  status,
  receiver: 'medic',
  groupKey: '{}/{}:{}',
  orgId: 1,
  title: '[FIRING:1] GrafanaHighLatency',
  alerts: [
    {
      status,
      labels: { alertname: 'GrafanaHighLatency', service, severity: 'warning', grafana_folder: 'svc' },
      annotations: { summary: 'p99 latency above 2s' },
      startsAt: '2026-11-25T10:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: 'abc123',
      dashboardURL: 'http://grafana.local/d/xyz',
      valueString: "[ var='A' value=2.7 ]",
    },
  ],
});

describe('generic webhook', () => {
  it('accepts a bearer-authenticated alert and opens an incident', async () => {
    const res = await send('/webhooks/generic', { alerts: [{ name: 'CheckoutErrors', severity: 'critical', labels: { service: 'checkout' } }] }, { authorization: `Bearer ${TOKENS.intake}` });
    expect(res.status).toBe(202);
    const id = await incidentIdFrom(res);
    const status = await m.waitFor(id, (s) => s.status === 'awaiting_approval');
    expect(status.alertname).toBe('CheckoutErrors');
    expect(status.severity).toBe('critical');
  });

  it('accepts an HMAC-signed request and refuses a bad, stale or replayed-with-new-body one', async () => {
    const body = JSON.stringify({ alerts: [{ name: 'CheckoutErrors', labels: { service: 'signed' } }] });
    expect((await send('/webhooks/generic', body, medicSigned(body))).status).toBe(202);
    const tampered = body.replace('signed', 'other');
    expect((await send('/webhooks/generic', tampered, medicSigned(body))).status).toBe(401);
    const stale = medicSigned(body, Math.floor(Date.now() / 1000) - 600);
    expect((await send('/webhooks/generic', body, stale)).status).toBe(401);
    expect((await send('/webhooks/generic', body, { 'x-medic-timestamp': '1', 'x-medic-signature': 'sha256=00' })).status).toBe(401);
  });

  it('names the bad field', async () => {
    const res = await send('/webhooks/generic', { alerts: [{ name: '', status: 'on-fire' }] }, { authorization: `Bearer ${TOKENS.intake}` });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { issues: { path: string }[] };
    expect(body.issues.map((i) => i.path).sort()).toEqual(['alerts.0.name', 'alerts.0.status']);
  });
});

describe('Grafana webhook', () => {
  it('opens an incident from a Grafana alert and a resolved notification ends it', async () => {
    const res = await send('/webhooks/grafana', grafanaPayload('firing', 'search'), { authorization: `Bearer ${TOKENS.intake}` });
    expect(res.status).toBe(202);
    const id = await incidentIdFrom(res);
    await m.waitFor(id, (s) => s.status === 'awaiting_approval');
    const timeline = (await m.timeline(id)).map((e) => e.message);
    expect(timeline).toContain('GrafanaHighLatency firing (warning) from grafana');

    const body = JSON.stringify(grafanaPayload('resolved', 'search'));
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = createHmac('sha256', SECRET).update(`${ts}:${body}`).digest('hex');
    const resolved = await send('/webhooks/grafana', body, { 'x-grafana-alerting-signature': sig, 'x-grafana-alerting-signature-timestamp': ts });
    expect(resolved.status).toBe(202);
    const final = (await m.env.client.workflow.getHandle(id).result()) as { status: string; outcome: string };
    expect(final.outcome).toBe('alert resolved before medic acted');
  });

  it('refuses an unauthenticated Grafana request', async () => {
    expect((await send('/webhooks/grafana', grafanaPayload('firing', 'x'), {})).status).toBe(401);
  });
});
