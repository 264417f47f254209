// Crash points for the `flag` action on a real Unleash 8 (token auth on): the worker is killed with
// the switch held before Unleash, with Unleash's answer held, and as the answer arrives; and once
// more with the answer held while a human switches the flag back before the next worker takes
// over (the retry must find its own write and not switch again). Applications are counted in
// Unleash's own event log (feature-environment-disabled events of the flag).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { firingAlert, stopAll } from '../support/fixtures.js';
import { HOLD_POINTS, startHoldingProxy, type Exchange, type HoldingProxy, type HoldPoint } from '../support/crash-proxy.js';
import { startUnleash, type Unleash } from '../support/unleash.js';
import { crashPlaybook, startCrashHarness, type CrashCase, type CrashHarness } from './crash-harness.js';

let unleash: Unleash;
let proxy: HoldingProxy;
let harness: CrashHarness;

beforeAll(async () => {
  unleash = await startUnleash();
  proxy = await startHoldingProxy({ target: unleash.url });
  harness = await startCrashHarness(() => ({ MEDIC_SECRET_UNLEASH_ADMIN_TOKEN: unleash.adminToken }));
}, 300_000);
afterAll(() => stopAll(harness, proxy, unleash));

const envPath = (feature: string) => `/api/admin/projects/default/features/${feature}/environments/production`;
const switchOn = (feature: string) => unleash.admin('POST', `${envPath(feature)}/on`);

async function flagCase(point: HoldPoint, i: number, flipBack = false): Promise<CrashCase> {
  const feature = `crash-flag-${i}`;
  await unleash.createFeature(feature);
  await switchOn(feature);
  const alertname = `CrashFlag${i}`;
  const effect = (e: Exchange) => e.method === 'POST' && e.url === `${envPath(feature)}/off`;
  return {
    actuator: 'flag (Unleash)',
    point,
    ...(flipBack ? { label: `${point}, then a human switches it back`, afterKill: () => switchOn(feature).then(() => undefined) } : {}),
    playbook: crashPlaybook({
      name: `crash-flag-${i}`,
      match: { alertname },
      target: `flag/${feature}`,
      steps: [
        {
          name: 'kill-switch',
          action: 'flag',
          timeout: '15s', // longer than holding every case takes (crash-harness.ts): only the kill sends a held switch again
          retries: 10,
          params: { provider: 'unleash', url: proxy.url, environment: 'production', feature, enabled: false, tokenSecret: 'UNLEASH_ADMIN_TOKEN' },
        },
      ],
    }),
    proxy,
    effect,
    touches: (e) => e.url.includes(feature),
    activity: 'setFeatureFlag',
    alert: firingAlert({ alertname, service: feature }),
    applied: async () => (await unleash.events(feature)).filter((e) => e.type === 'feature-environment-disabled' && e.environment === 'production').length,
    expected: 'resolved',
  };
}

it('flag: SIGKILL at every crash point (and with a human switching the flag back meanwhile), each switch applied exactly once', async () => {
  const cases: CrashCase[] = [];
  let i = 0;
  for (const point of HOLD_POINTS) cases.push(await flagCase(point, i++));
  const flipped = await flagCase('answer-held', i++, true);
  cases.push(flipped);
  await harness.run('flags', cases);
  // The human's decision stands: the retry found its own write and did not switch the flag again.
  expect(await unleash.enabledIn(`crash-flag-${i - 1}`, 'production')).toBe(true);
}, 900_000);
