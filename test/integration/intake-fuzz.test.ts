// Fuzzing the Alertmanager webhook with fast-check: random and mutated payloads never get a 5xx,
// never crash medic, and never start a workflow unless the payload is valid.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { alertmanagerPayload } from '../../dev/health-watcher.js';
import { checkAlertLimits, DEFAULT_INTAKE_LIMITS } from '../../src/intake/limits.js';
import { AlertmanagerWebhookSchema, fromAlertmanager } from '../../src/intake/schemas.js';
import { demoPlaybook } from '../support/fixtures.js';
import { startMedic, TOKENS, type Medic } from '../support/medic.js';

let m: Medic;
beforeAll(async () => {
  // Payloads are fuzzed here, not rates: 300 requests in a few seconds stay under the rate limit.
  m = await startMedic({ bodyLimitBytes: 16 * 1024, intakeLimits: { requestsPerSecond: 10_000, burst: 10_000 } });
  // alerts that would match never act: the step waits for an approval nobody gives
  m.playbooks.push(
    demoPlaybook(m.demo.url, {
      match: { alertname: '~.*' },
      steps: [{ name: 'guarded', action: 'http', params: { method: 'POST', url: `${m.demo.url}/remediate` }, requiresApproval: true, approvers: ['nobody'] }],
    }),
  );
});
afterAll(() => m?.stop());

const post = (body: string, contentType = 'application/json'): Promise<Response> =>
  fetch(`${m.url}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: `Bearer ${TOKENS.intake}` },
    body,
  });

async function workflowCount(): Promise<number> {
  return (await m.env.client.workflow.count(`TaskQueue = '${m.config.temporal.taskQueue}' AND WorkflowType = 'incidentWorkflow'`)).count;
}

const valid = alertmanagerPayload('firing', { alertname: 'Fuzz', service: 'fuzz' }, '2026-01-01T00:00:00Z');

/** Mutations of a valid payload: drop, retype or replace a field at any depth. */
const mutated = fc
  .tuple(
    fc.constantFrom('version', 'groupKey', 'status', 'receiver', 'alerts', 'truncatedAlerts', 'alerts.0.status', 'alerts.0.labels', 'alerts.0.labels.alertname', 'alerts.0.startsAt', 'alerts.0.annotations'),
    fc.oneof(fc.constant(undefined), fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.dictionary(fc.string(), fc.anything())),
  )
  .map(([path, value]) => {
    const copy = structuredClone(valid) as unknown as Record<string, unknown>;
    const keys = path.split('.');
    let node = copy as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
    if (value === undefined) delete node[keys[keys.length - 1]!];
    else node[keys[keys.length - 1]!] = value;
    return JSON.stringify(copy);
  });

it('never answers 5xx and starts nothing for invalid input', async () => {
  const before = await workflowCount();
  let started = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        mutated,
        fc.json(),
        fc.string(),
        fc.anything().map((v) => JSON.stringify(v) ?? 'null'),
        fc.string({ minLength: 20_000, maxLength: 20_000 }),
      ),
      async (body) => {
        const res = await post(body);
        expect(res.status).toBeLessThan(500);
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
        const schema = AlertmanagerWebhookSchema.safeParse(parsed);
        const ok = body.length <= 16 * 1024 && schema.success && checkAlertLimits(fromAlertmanager(schema.data, 0), DEFAULT_INTAKE_LIMITS).length === 0;
        if (ok) {
          expect(res.status).toBe(202);
          started += 1;
        } else {
          expect([400, 413]).toContain(res.status);
          const err = (await res.json()) as { error?: string };
          expect(typeof err.error).toBe('string');
        }
      },
    ),
    { numRuns: 300, seed: 20261125 },
  );
  // the server is still healthy, and only valid payloads could have started workflows
  expect((await fetch(`${m.url}/healthz`)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 1_500)); // visibility is eventually consistent
  expect((await workflowCount()) - before).toBeLessThanOrEqual(started);
}, 120_000);
