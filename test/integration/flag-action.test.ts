// The `flag` action against a real Unleash 8 (on a throwaway PostgreSQL) with token auth on:
// before → after reporting, the change seen by an application evaluating the flag with Unleash's
// Node SDK (unleash-client: no OpenFeature server provider for Unleash is published, and Unleash 8
// OSS serves no OFREP endpoint), idempotent repeats, dry run, refused tokens, unknown flags, and a
// playbook run through a real incident workflow on a Temporal dev server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { createFlagActivities, FLAG_TAG_TYPE, flagTagValue, type FlagActionInput } from '../../activities/flags.js';
import { startHoldingProxy, type HoldingProxy, type HoldPoint } from '../support/crash-proxy.js';
import { freePort } from '../../dev/ports.js';
import { actionEntry, runIncident, startMedic, type Medic } from '../support/medic.js';
import { startFlagClient, startUnleash, waitForEvaluation, type FlagClient, type Unleash } from '../support/unleash.js';
import { actionOutput } from '../../workflows/contracts-timeline.js';

let unleash: Unleash;
let app: FlagClient;
beforeAll(async () => {
  unleash = await startUnleash();
  console.log(`unleash-server 8.2.0 healthy after ${unleash.startupMs} ms (fresh database, migrations included)`);
  app = await startFlagClient(unleash, 'production');
});
afterAll(async () => {
  app?.destroy();
  await unleash?.stop();
});

const secrets: Record<string, () => string> = {
  UNLEASH_ADMIN_TOKEN: () => unleash.adminToken,
  UNLEASH_RANDOM_TOKEN: () => '*:*.0123456789abcdef0123456789abcdef',
  UNLEASH_BACKEND_TOKEN: () => unleash.backendTokens.production,
};
const flags = createFlagActivities({ fetch: globalThis.fetch, secret: (n) => secrets[n]?.() });
let n = 0;
const input = (feature: string, over: Partial<FlagActionInput> = {}): FlagActionInput => ({
  provider: 'unleash',
  url: unleash.url,
  project: 'default',
  environment: 'production',
  feature,
  enabled: false,
  tokenSecret: 'UNLEASH_ADMIN_TOKEN',
  idempotencyKey: `incident:checkout:abc:run${++n}:step-0:try-1`,
  dryRun: false,
  timeoutMs: 5_000,
  ...over,
});
const failureOf = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
};
/** A flag that is on in production, as the application sees it. */
async function flagOn(name: string): Promise<void> {
  await unleash.createFeature(name);
  await unleash.admin('POST', `/api/admin/projects/default/features/${name}/environments/production/on`);
  expect(await waitForEvaluation(app, name, true)).toBe(true);
}
const disabledEvents = async (feature: string): Promise<number> =>
  (await unleash.events(feature)).filter((e) => e.type === 'feature-environment-disabled' && e.environment === 'production').length;

/** The first attempt at switching `flag` off through `proxy`, whose POST is held (as `label`) and
 * then dropped; the retry's input and the first attempt, whose answer never arrives. */
async function switchDropped(proxy: HoldingProxy, flag: string, label: HoldPoint) {
  const key = input(flag, { url: proxy.url });
  const held = proxy.hold((e) => e.method === 'POST' && e.url.endsWith('/environments/production/off'), label);
  const first = flags.setFeatureFlag({ ...key, timeoutMs: 60_000 });
  await held;
  proxy.drop();
  return { key, first };
}

describe('setFeatureFlag against Unleash', () => {
  it('turns a flag off, reports before → after, and the application evaluates it off', async () => {
    await flagOn('checkout-new-flow');
    const r = await flags.setFeatureFlag(input('checkout-new-flow'));
    expect(r).toMatchObject({ dryRun: false, before: true, after: false, changed: true });
    expect(r.summary).toBe('flag checkout-new-flow in production (project default) on → off');
    expect(await unleash.enabledIn('checkout-new-flow', 'production')).toBe(false);
    expect(await waitForEvaluation(app, 'checkout-new-flow', false)).toBe(false);
    // Only production changed.
    expect(await unleash.enabledIn('checkout-new-flow', 'development')).toBe(false);
    // And back on (enabled: true), the other direction of the same call.
    const back = await flags.setFeatureFlag(input('checkout-new-flow', { enabled: true }));
    expect(back).toMatchObject({ before: false, after: true, changed: true });
    expect(await waitForEvaluation(app, 'checkout-new-flow', true)).toBe(true);
  });

  it('a repeat with the same key finds it already off and changes nothing (one disable event)', async () => {
    await flagOn('search-v2');
    const same = input('search-v2');
    const first = await flags.setFeatureFlag(same);
    const second = await flags.setFeatureFlag(same);
    expect(first).toMatchObject({ before: true, after: false, changed: true });
    expect(second).toMatchObject({ before: false, after: false, changed: false, alreadyDone: true });
    expect(second.summary).toMatch(/^flag search-v2 in production \(project default\): turned off by an earlier attempt of this step at \S+ \(now off\); not repeated$/);
    expect(await disabledEvents('search-v2')).toBe(1);
    // The key is on the flag, as a tag of type medic (a hash: tag values hold 50 characters).
    const tags = (await unleash.admin('GET', '/api/admin/features/search-v2/tags')) as { tags: { type: string; value: string }[] };
    expect(tags.tags.map((t) => [t.type, t.value])).toContainEqual([FLAG_TAG_TYPE, flagTagValue(same.idempotencyKey)]);
  });

  it('the answer to the switch is lost and a human switches the flag back: the retry finds its own write and does not switch again', async () => {
    await flagOn('lost-answer');
    const proxy = await startHoldingProxy({ target: unleash.url });
    try {
      const { key, first } = await switchDropped(proxy, 'lost-answer', 'answer-held'); // Unleash switched it off; the answer is kept from the activity
      expect(await failureOf(first)).not.toBeInstanceOf(ApplicationFailure); // retryable: Temporal tries again
      expect(await unleash.enabledIn('lost-answer', 'production')).toBe(false);
      await unleash.admin('POST', '/api/admin/projects/default/features/lost-answer/environments/production/on'); // a human's decision
      const retried = await flags.setFeatureFlag(key);
      expect(retried).toMatchObject({ before: true, after: true, changed: false, alreadyDone: true });
      expect(retried.summary).toMatch(/turned off by an earlier attempt of this step at .* \(now on\); not repeated$/);
      expect(await unleash.enabledIn('lost-answer', 'production')).toBe(true);
      expect(await disabledEvents('lost-answer')).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('the switch never reached Unleash (the attempt died after recording its key): the retry switches, once', async () => {
    await flagOn('never-sent');
    const proxy = await startHoldingProxy({ target: unleash.url });
    try {
      const { key, first } = await switchDropped(proxy, 'never-sent', 'before-target');
      await failureOf(first);
      expect(await unleash.enabledIn('never-sent', 'production')).toBe(true);
      const retried = await flags.setFeatureFlag(key);
      expect(retried).toMatchObject({ before: true, after: false, changed: true });
      expect(await disabledEvents('never-sent')).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('dry run reads the flag, says what would change, and changes nothing', async () => {
    await flagOn('recommendations');
    const r = await flags.setFeatureFlag(input('recommendations', { dryRun: true }));
    expect(r).toMatchObject({ dryRun: true, before: true, after: false, changed: false });
    expect(r.summary).toBe('dry run: would turn flag recommendations in production (project default) on → off');
    expect(await unleash.enabledIn('recommendations', 'production')).toBe(true);
    expect(await disabledEvents('recommendations')).toBe(0);
    expect(app.isEnabled('recommendations')).toBe(true);
  });

  it('a token Unleash does not know is a clear, permanent 401; a backend token a permanent 403; neither leaks', async () => {
    await flagOn('payments-retry');
    const unknown = await failureOf(flags.setFeatureFlag(input('payments-retry', { tokenSecret: 'UNLEASH_RANDOM_TOKEN' })));
    expect(unknown).toBeInstanceOf(ApplicationFailure);
    expect(unknown).toMatchObject({ type: 'FlagUnauthorized', nonRetryable: true });
    expect(unknown.message).toContain('answered 401');
    expect(unknown.message).toContain('refused the token in secret UNLEASH_RANDOM_TOKEN');
    expect(unknown.message).not.toContain(secrets.UNLEASH_RANDOM_TOKEN!());

    const backend = await failureOf(flags.setFeatureFlag(input('payments-retry', { tokenSecret: 'UNLEASH_BACKEND_TOKEN' })));
    expect(backend).toMatchObject({ type: 'FlagUnauthorized', nonRetryable: true });
    expect(backend.message).toContain('answered 403');
    expect(backend.message).not.toContain(unleash.backendTokens.production);
    expect(await unleash.enabledIn('payments-retry', 'production')).toBe(true);
  });

  it('an unknown flag or environment is a permanent 404 carrying Unleash\'s reason', async () => {
    const f = await failureOf(flags.setFeatureFlag(input('no-such-flag')));
    expect(f).toMatchObject({ type: 'FlagNotFound', nonRetryable: true });
    expect(f.message).toContain('answered 404');
    expect(f.message).toContain('no feature named "no-such-flag" in project "default"');
    await unleash.createFeature('only-known-envs');
    const env = await failureOf(flags.setFeatureFlag(input('only-known-envs', { environment: 'staging' })));
    expect(env).toMatchObject({ type: 'FlagNotFound', nonRetryable: true });
    expect(env.message).toContain('staging');
  });

  it('a missing secret is permanent and nothing is sent', async () => {
    const f = await failureOf(flags.setFeatureFlag(input('checkout-new-flow', { tokenSecret: 'NOT_SET' })));
    expect(f).toMatchObject({ type: 'MissingSecret', nonRetryable: true });
    expect(f.message).toContain('MEDIC_SECRET_NOT_SET');
  });

  it('an unreachable server and a 5xx (e.g. a proxy in front of Unleash) are retryable', async () => {
    const closed = await failureOf(flags.setFeatureFlag(input('x', { url: `http://127.0.0.1:${await freePort()}` })));
    expect(closed).not.toBeInstanceOf(ApplicationFailure); // a plain error: Temporal retries it
    expect(closed.message).toMatch(/Unleash GET .* failed: fetch failed/);

    const proxy: Server = createServer((_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream unavailable'));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const f = await failureOf(flags.setFeatureFlag(input('x', { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` })));
      expect(f).not.toBeInstanceOf(ApplicationFailure);
      expect(f.message).toContain('answered 503: upstream unavailable');
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});

describe('a flag step in an incident on a real Temporal dev server', () => {
  let m: Medic;
  beforeAll(async () => {
    m = await startMedic({ secrets: { UNLEASH_ADMIN_TOKEN: unleash.adminToken } });
  });
  afterAll(() => m?.stop());

  it('turns the flag off; the timeline shows on → off; the token never enters history', async () => {
    await flagOn('checkout-express');
    const { id, final, timeline } = await runIncident(
      m,
      {
        name: 'checkout-kill-switch',
        match: { alertname: 'CheckoutErrors' },
        steps: [
          {
            name: 'disable-express-checkout',
            action: 'flag',
            timeout: '10s',
            params: {
              provider: 'unleash',
              url: unleash.url,
              environment: '{{labels.env}}',
              feature: 'checkout-express',
              enabled: false,
              tokenSecret: 'UNLEASH_ADMIN_TOKEN',
            },
          },
        ],
      },
      { alertname: 'CheckoutErrors', service: 'checkout', env: 'production' },
      90_000,
    );
    expect(final.status).toBe('resolved');
    const started = actionEntry(timeline, 'started');
    expect(started?.message).toContain('Unleash flag checkout-express → off in production (project default)');
    const finished = actionEntry(timeline, 'finished');
    expect(finished?.message).toContain('flag checkout-express in production (project default) on → off');
    expect(actionOutput(finished)).toMatchObject({ feature: 'checkout-express', environment: 'production', before: true, after: false, changed: true });
    expect(await waitForEvaluation(app, 'checkout-express', false)).toBe(false);
    expect(await disabledEvents('checkout-express')).toBe(1);

    const history = await m.env.client.workflow.getHandle(id).fetchHistory();
    const decoded = (k: string, v: unknown): unknown =>
      typeof v === 'string' && k === 'data' ? Buffer.from(v, 'base64').toString('utf8') : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v;
    const text = JSON.stringify(history, decoded);
    expect(text).toContain('UNLEASH_ADMIN_TOKEN'); // the secret's name is there …
    expect(text).not.toContain(unleash.adminToken.split('.')[1]!); // … its value is not
  });
});
