// Builders for playbooks and alerts used across tests; they go through the real zod schema.
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { PlaybookSchema, type Playbook, type PlaybookInput } from '../../src/playbooks/schema.js';
import type { Alert } from '../../src/intake/schemas.js';

export const silentLog = pino({ level: 'silent' });

/** The playbooks this test process built (demoPlaybook, testPlaybook) or registered: what its
 * in-process medic workers load, as a deployed worker loads its playbook files. A body that was
 * not built here (e.g. a forged one) is unknown to them. */
const loaded = new Set<Playbook>();
export const registerPlaybooks = (...pbs: Playbook[]): void => pbs.forEach((pb) => loaded.add(pb));
export const knownPlaybooks = (): Playbook[] => [...loaded];

/** A playbook parsed by the real schema and loaded by this process's test workers. */
export function testPlaybook(input: PlaybookInput): Playbook {
  const pb = PlaybookSchema.parse(input);
  loaded.add(pb);
  return pb;
}

export function demoPlaybook(serviceUrl: string, overrides: Partial<PlaybookInput> = {}): Playbook {
  return testPlaybook({
    name: 'demo-down',
    match: { alertname: 'DemoServiceDown' },
    groupBy: ['alertname', 'service'],
    target: '{{labels.service}}',
    steps: [remediateStep(serviceUrl, { timeout: '5s', retries: 2, verification: healthyAgain(serviceUrl, '2s', '20s', '500ms') })],
    ...overrides,
  } satisfies PlaybookInput);
}

let seq = 0;
export function firingAlert(labels: Record<string, string> = {}, status: Alert['status'] = 'firing'): Alert {
  const all = { alertname: 'DemoServiceDown', service: `demo-${process.pid}-${++seq}`, severity: 'critical', ...labels };
  return {
    status,
    alertname: all.alertname,
    severity: all.severity,
    labels: all,
    annotations: { summary: 'demo service is down' },
    startsAt: new Date().toISOString(),
    fingerprint: '',
    source: 'alertmanager',
    receivedAt: Date.now(),
  };
}

type HttpStepInput = Extract<NonNullable<PlaybookInput['steps']>[number], { action: 'http' }>;

/** The demo service healthy again: `window` of passing /healthz probes within `deadline`. */
export const healthyAgain = (serviceUrl: string, window = '1s', deadline = '20s', interval = '250ms') => ({
  http: { url: `${serviceUrl}/healthz` },
  window,
  interval,
  deadline,
});

/** The demo service's remediation (POST /remediate, answered 200 when it ran) as an http step
 * named restart, with `over` on top. */
export const remediateStep = (serviceUrl: string, over: Partial<HttpStepInput> = {}): HttpStepInput => ({
  name: 'restart',
  action: 'http',
  params: { method: 'POST', url: `${serviceUrl}/remediate`, expectStatus: [200] },
  ...over,
});

/** A high-risk restart of the demo service that waits for an approval (5 min), then verifies. */
export const approvalStep = (serviceUrl: string, over: Partial<HttpStepInput> = {}): HttpStepInput =>
  remediateStep(serviceUrl, {
    risk: 'high',
    requiresApproval: true,
    approvalTimeout: '5m',
    timeout: '5s',
    verification: healthyAgain(serviceUrl),
    ...over,
  });

/**
 * Starts a harness (startMedic, startSlackMedic, …) once for the test file, in beforeAll, and stops
 * it in afterAll. The returned object stands for the started harness (a reader before beforeAll
 * ran gets a clear error), so a file writes `const m = perFile(startMedic)` and uses `m` as before.
 */
export function perFile<T extends { stop(): unknown }>(start: () => Promise<T>): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const current = (): T => {
    if (!started) throw new Error('the harness is used before beforeAll started it');
    return started;
  };
  return new Proxy({} as T, {
    get: (_, key) => {
      const v: unknown = Reflect.get(current(), key);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(current()) : v;
    },
    set: (_, key, value) => Reflect.set(current(), key, value),
  });
}

type Stoppable = { stop(): unknown } | { close(): unknown } | { teardown(): unknown } | { shutdown(): unknown };

/** Stops what a file started, in the order given, each by its own method (stop, close, teardown
 * or shutdown); parts that never started (undefined) are skipped. */
export async function stopAll(...parts: (Stoppable | undefined)[]): Promise<void> {
  for (const p of parts) {
    if (!p) continue;
    if ('stop' in p) await p.stop();
    else if ('close' in p) await p.close();
    else if ('teardown' in p) await p.teardown();
    else await p.shutdown();
  }
}
