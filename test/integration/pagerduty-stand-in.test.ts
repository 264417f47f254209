// The PagerDuty Events API v2 stand-in over real HTTPS, driven by the real @pagerduty/pdjs client,
// and medic's PagerDuty activities against it. The CA is generated here; one check runs pdjs in
// a child process that trusts it only through NODE_EXTRA_CA_CERTS, as a medic worker would.
import { execFile } from 'node:child_process';
import { Agent, request } from 'node:https';
import { promisify } from 'node:util';
import { event } from '@pagerduty/pdjs';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPagerDutyActivities } from '../../activities/pagerduty.js';
import { startPagerDutyStandIn, type PagerDutyStandIn } from '../../dev/pagerduty/stand-in.js';
import type { PageContent } from '../../workflows/page.js';
import { ROOT } from '../support/paths.js';

const KEY = 'R0UT1NGKEY0123456789abcdefABCDEF'; // 32 characters
let pd: PagerDutyStandIn;
let agent: Agent;

beforeAll(async () => {
  pd = await startPagerDutyStandIn({ ratePerMinute: 5 });
  agent = new Agent({ ca: pd.certs.ca });
});
afterAll(async () => {
  agent?.destroy();
  await pd?.close();
});

type Data = Parameters<typeof event>[0]['data'];
const send = async (data: unknown) => {
  const r = await event({ data: data as Data, server: pd.server, requestTimeout: 0, retryTimeout: 10, ...({ agent } as object) });
  return { status: r.status, body: r.data as { status: string; message: string; dedup_key?: string; errors?: string[] } };
};
const trigger = (routing_key: string, dedup_key: string, payload: Record<string, unknown> = {}) =>
  send({ routing_key, event_action: 'trigger', dedup_key, payload: { summary: 's', source: 'host-1', severity: 'error', ...payload } });
let keyN = 0;
/** A fresh routing key per test, so the per-key rate limit of one test does not leak into another. */
const freshKey = (): string => `${KEY.slice(0, 28)}${String(++keyN).padStart(4, '0')}`;

describe('PagerDuty stand-in', () => {
  it('rejects invalid events with PagerDuty-like 400 errors', async () => {
    const k = freshKey();
    const cases: [unknown, string][] = [
      [{ routing_key: 'short', event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'info' } }, "Length of 'routing_key' is incorrect (should be 32 characters)"],
      [{ routing_key: k, event_action: 'page', dedup_key: 'd' }, "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"],
      [{ routing_key: k, event_action: 'trigger', payload: { source: 'x', severity: 'info' } }, "'payload.summary' is missing or blank"],
      [{ routing_key: k, event_action: 'trigger', payload: { summary: 'x'.repeat(1025), source: 'x', severity: 'info' } }, "Length of 'payload.summary' is too long (maximum is 1024 characters)"],
      [{ routing_key: k, event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'high' } }, "'payload.severity' is invalid (must be one of: critical, error, warning, info)"],
      [{ routing_key: k, event_action: 'trigger', payload: { summary: 's', severity: 'info' } }, "'payload.source' is missing or blank"],
      [{ routing_key: k, event_action: 'trigger', dedup_key: 'd'.repeat(256), payload: { summary: 's', source: 'x', severity: 'info' } }, "Length of 'dedup_key' is too long (maximum is 255 characters)"],
      [{ routing_key: k, event_action: 'resolve' }, "'dedup_key' is missing or blank"],
      [{ routing_key: k, event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'info' }, links: [{ text: 'no href' }] }, "'links[0].href' is missing or blank"],
    ];
    for (const [data, error] of cases) {
      const r = await send(data);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ status: 'invalid event', message: 'Event object is invalid' });
      expect(r.body.errors).toContain(error);
    }
    // not JSON at all
    const raw = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${pd.url}/v2/enqueue`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end('{not json');
    });
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body)).toMatchObject({ status: 'invalid event', errors: ['Could not parse JSON'] });
    expect(pd.alerts.filter((a) => a.routingKey === k)).toHaveLength(0);
  });

  it('dedups by dedup_key: a repeated trigger updates the alert, resolve closes it, a later trigger opens a new one', async () => {
    const k = freshKey();
    const first = await trigger(k, 'inc-1', { summary: 'first' });
    expect(first).toEqual({ status: 202, body: { status: 'success', message: 'Event processed', dedup_key: 'inc-1' } });
    await trigger(k, 'inc-1', { summary: 'second', severity: 'critical' });
    expect(pd.alertsFor('inc-1')).toHaveLength(1);
    expect(pd.alertsFor('inc-1')[0]).toMatchObject({ status: 'triggered', summary: 'second', severity: 'critical' });
    expect((await send({ routing_key: k, event_action: 'resolve', dedup_key: 'inc-1' })).status).toBe(202);
    expect(pd.alertsFor('inc-1')[0]!.status).toBe('resolved');
    await trigger(k, 'inc-1', { summary: 'again' });
    expect(pd.alertsFor('inc-1').map((a) => a.status)).toEqual(['resolved', 'triggered']);
    // a trigger without dedup_key gets a generated one
    const anon = await send({ routing_key: freshKey(), event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'info' } });
    expect(anon.body.dedup_key).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers 429 past the per-routing-key rate and 503 during an outage; GET /_stand-in/events shows everything', async () => {
    const k = freshKey();
    for (let i = 0; i < 5; i++) expect((await trigger(k, `rate-${i}`)).status).toBe(202);
    const throttled = await trigger(k, 'rate-5');
    expect(throttled.status).toBe(429);
    expect(throttled.body.status).toBe('throttle event');
    expect(pd.alertsFor('rate-5')).toHaveLength(0);
    expect((await trigger(freshKey(), 'other-key')).status).toBe(202); // the limit is per routing key
    pd.state.outage = true;
    expect((await trigger(freshKey(), 'down')).status).toBe(503);
    pd.state.outage = false;
    const res = await new Promise<string>((resolve, reject) => {
      request(`${pd.url}/_stand-in/events`, { agent }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => resolve(body));
      }).on('error', reject).end();
    });
    const events = (JSON.parse(res) as { events: { status: number; body: { dedup_key?: string } }[] }).events;
    expect(events.filter((e) => e.body.dedup_key === 'rate-5').map((e) => e.status)).toEqual([429, 429, 429, 429]); // pdjs retries a 429 three times
    expect(events.some((e) => e.status === 503 && e.body.dedup_key === 'down')).toBe(true);
  });

  it('is trusted by a process through NODE_EXTRA_CA_CERTS, and refused without it', async () => {
    const script = `import { event } from '@pagerduty/pdjs';
      const r = await event({ server: process.argv[1], data: { routing_key: '${freshKey()}', event_action: 'trigger', dedup_key: 'extra-ca', payload: { summary: 's', source: 'x', severity: 'info' } } });
      console.log(r.status);`;
    const run = (extra: Record<string, string>) =>
      promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, pd.server], {
        cwd: ROOT,
        env: { ...process.env, NODE_EXTRA_CA_CERTS: '', ...extra },
      });
    expect((await run({ NODE_EXTRA_CA_CERTS: pd.certs.caPath })).stdout.trim()).toBe('202');
    await expect(run({})).rejects.toThrow(/certificate/i);
  });
});

describe('PagerDuty activities', () => {
  const page: PageContent = {
    dedupKey: 'incident:act:1',
    summary: 'summary',
    severity: 'critical',
    source: 'svc',
    timestamp: new Date().toISOString(),
    customDetails: { a: 1 },
    links: [{ href: 'http://localhost:8233/x', text: 'Temporal' }],
  };
  const activities = (key: string | undefined) =>
    createPagerDutyActivities({ event, server: pd.server, agent, throttlePauseMs: 10, secret: (n) => (n === 'PD' ? key : undefined) });

  it('triggers and resolves with the routing key from a secret', async () => {
    const k = freshKey();
    const a = activities(k);
    expect(await a.pagerdutyTrigger({ routingKeySecret: 'PD', page })).toEqual({ action: 'trigger', status: 202, dedupKey: page.dedupKey, message: 'Event processed' });
    expect((await a.pagerdutyResolve({ routingKeySecret: 'PD', dedupKey: page.dedupKey })).status).toBe(202);
    expect(pd.alertsFor(page.dedupKey)[0]).toMatchObject({ routingKey: k, status: 'resolved' });
  });

  it('a rejected event is non-retryable; 429 and outages are retryable; a missing secret is non-retryable', async () => {
    const fail = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      return err as ApplicationFailure;
    };
    const bad = await fail(activities('too-short').pagerdutyTrigger({ routingKeySecret: 'PD', page }));
    expect(bad).toMatchObject({ type: 'PagerDutyRejected', nonRetryable: true });
    expect(bad.message).toContain("Length of 'routing_key' is incorrect");
    pd.state.throttleNext = 4;
    expect(await fail(activities(freshKey()).pagerdutyTrigger({ routingKeySecret: 'PD', page }))).toMatchObject({ type: 'PagerDutyThrottled', nonRetryable: false });
    pd.state.outage = true;
    expect(await fail(activities(freshKey()).pagerdutyTrigger({ routingKeySecret: 'PD', page }))).toMatchObject({ type: 'PagerDutyUnavailable', nonRetryable: false });
    pd.state.outage = false;
    expect(await fail(activities(undefined).pagerdutyTrigger({ routingKeySecret: 'PD', page }))).toMatchObject({ type: 'MissingSecret', nonRetryable: true });
  });
});
