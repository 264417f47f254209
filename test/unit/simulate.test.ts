// medic simulate's decision path on its own (no target reachable needed: steps without a
// server-side dry run are never sent): holds advance the simulated clock, the governor's ledger is
// shared across the recording, correlation folds alerts, and the rollout modes show as they run.
import { describe, expect, it } from 'vitest';
import { PlaybookSchema, type Playbook, type PlaybookInput } from '../../src/playbooks/schema.js';
import type { Alert } from '../../src/intake/schemas.js';
import { simulate } from '../../src/simulate/engine.js';
import { dryRunActuator } from '../../src/simulate/actuator.js';
import { parseRecorded } from '../../src/simulate/alerts.js';

const T0 = Date.parse('2025-11-25T14:00:00Z');
const pb = (over: Partial<PlaybookInput> = {}): Playbook =>
  PlaybookSchema.parse({
    name: 'restart-api',
    match: { alertname: 'ApiDown' },
    target: '{{labels.service}}',
    steps: [
      { name: 'restart', action: 'http', params: { url: 'http://127.0.0.1:9/restart' }, verification: { http: { url: 'http://127.0.0.1:9/healthz' } } },
      { name: 'failover', action: 'http', params: { url: 'http://127.0.0.1:9/failover' }, approvers: ['U1'] },
    ],
    ...over,
  } satisfies PlaybookInput);
const alert = (service: string, at: number, over: Partial<Alert> = {}): Alert => ({
  status: 'firing',
  alertname: 'ApiDown',
  severity: 'critical',
  labels: { alertname: 'ApiDown', service },
  annotations: {},
  startsAt: new Date(at).toISOString(),
  fingerprint: `fp-${service}-${at}`,
  source: 'alertmanager',
  receivedAt: at,
  ...over,
});
const run = (alerts: Alert[], playbooks: Playbook[], extra = {}) => simulate(alerts, { playbooks, actuator: dryRunActuator(), ...extra });

describe('medic simulate decisions', () => {
  it('a maintenance window holds the step until it ends (simulated clock), then it runs', async () => {
    const r = await run([alert('api', T0)], [pb({ maintenanceWindows: [{ start: '2025-11-25T13:00:00Z', end: '2025-11-25T15:00:00Z', reason: 'upgrade' }] })]);
    const gates = r.incidents[0]!.events.filter((e) => e.kind === 'gates');
    expect(gates.map((g) => [g.verdict, g.at])).toEqual([['wait', '2025-11-25T14:00:00.000Z'], ['allow', '2025-11-25T15:00:00.000Z']]);
    expect(JSON.stringify(gates[0])).toContain('maintenance window active (upgrade); holding until 2025-11-25T15:00:00.000Z');
    expect(r.incidents[0]!.sequence).toEqual([{ step: 0, result: 'healed' }]);
  });

  it('silences show as the real run would make them: silenced while acting and verifying, expired at the end', async () => {
    const r = await run([alert('api', T0)], [pb({ silence: { duration: '15m', snooze: ['1h'] } })]);
    const lines = r.incidents[0]!.events.filter((e) => e.kind === 'silence').map((e) => e.message);
    expect(lines[0]).toBe('would silence {alertname="ApiDown",service="api"} in Alertmanager until 2025-11-25T14:15:00.000Z (createdBy medic)');
    expect(lines.at(-1)).toBe('would expire the silence: the alerts notify again');
  });

  it('the governor ledger is shared: a second incident on the target waits for the hourly rate limit', async () => {
    const p = pb({ groupBy: ['alertname', 'instance'], limits: { maxActionsPerHourPerTarget: 1 } });
    const r = await run([alert('api', T0, { labels: { alertname: 'ApiDown', service: 'api', instance: 'a' } }), alert('api', T0 + 60_000, { labels: { alertname: 'ApiDown', service: 'api', instance: 'b' } })], [p]);
    expect(r.incidents).toHaveLength(2);
    const second = r.incidents[1]!.events.filter((e) => e.kind === 'gates');
    expect(second[0]!.verdict).toBe('wait');
    expect(JSON.stringify(second[0])).toContain('1 actions in the last hour on this target (limit 1); next slot at 2025-11-25T15:00:00.000Z');
    expect(second[1]).toMatchObject({ verdict: 'allow', at: '2025-11-25T15:00:00.000Z' });
  });

  it('correlation folds a dependent service into the open incident; repeats and unmatched alerts are counted', async () => {
    const db = pb({ name: 'db-down', match: { alertname: 'DbDown' } });
    const r = await run(
      [alert('db', T0, { alertname: 'DbDown', labels: { alertname: 'DbDown', service: 'db' } }), alert('checkout', T0 + 1_000), alert('x', T0 + 2_000, { alertname: 'Other', labels: { alertname: 'Other' } })],
      [db, pb()],
      { correlation: { window: '10m', dependsOn: { checkout: ['db'] } } },
    );
    expect(r.incidents.map((i) => i.playbook)).toEqual(['db-down']);
    expect(r.incidents[0]!.correlated).toEqual([{ alertname: 'ApiDown', service: 'checkout', reason: 'checkout depends on db' }]);
    expect(r.unmatched).toEqual([{ alertname: 'Other', labels: { alertname: 'Other' } }]);
  });

  it('mode dry-run: every step reports what it would do, then a human decides; approve-all asks first; the kill switch holds', async () => {
    const dry = await run([alert('api', T0)], [pb({ mode: 'dry-run' })]);
    expect(dry.incidents[0]!.sequence).toEqual([{ step: 0, result: 'dry-run' }, { step: 1, result: 'dry-run' }]);
    expect(dry.incidents[0]!.escalation?.reason).toBe('dry-run mode: all 2 step(s) reported what they would do; nothing changed; a human decides');
    expect(dry.incidents[0]!.events.some((e) => e.kind === 'approval')).toBe(false);

    const ask = await run([alert('api', T0)], [pb({ mode: 'approve-all', demotionApprovers: ['U-LEAD'] })]);
    expect(ask.incidents[0]!.events.find((e) => e.kind === 'approval')).toMatchObject({ step: 0, approvers: ['U-LEAD'] });

    const paused = await run([alert('api', T0)], [pb()], { pause: { paused: true, by: 'ops' } });
    expect(paused.incidents[0]!.escalation?.reason).toMatch(/^automation is paused/);
    expect(paused.incidents[0]!.sequence).toEqual([]);
  });

  it('--live governor state: its kill switch, a cooldown on the target and demoted steps decide as in the workflow', async () => {
    const cooling = await run([alert('api', T0)], [pb()], { governor: { cooldowns: { api: { until: T0 + 600_000, incidentId: 'incident:x:1' } } } });
    expect(cooling.incidents[0]!.escalation?.reason).toBe('policy blocked step 1/2 (restart): target is cooling down until 2025-11-25T14:10:00.000Z after a failed remediation in incident:x:1');
    const paused = await run([alert('api', T0)], [pb()], { governor: { pause: { paused: true, by: 'root' } } });
    expect(paused.incidents[0]!.escalation?.reason).toMatch(/^automation is paused/);
    const demoted = await run([alert('api', T0)], [pb({ demotionApprovers: ['U-LEAD'] })], { governor: { demotedSteps: [{ playbook: 'restart-api', step: 0, reason: 'failed 3 of its last 5 runs' }] } });
    expect(demoted.incidents[0]!.events.find((e) => e.kind === 'approval')).toMatchObject({ step: 0, approvers: ['U-LEAD'] });
    expect(demoted.incidents[0]!.sequence).toEqual([{ step: 0, result: 'healed' }]);
  });

  it('reads Alertmanager API v2 alerts: an ended one counts as resolved', () => {
    const [a] = parseRecorded(JSON.stringify({ labels: { alertname: 'ApiDown', service: 'api' }, startsAt: '2025-11-25T14:00:00Z', endsAt: '2025-11-25T14:05:00Z', updatedAt: '2025-11-25T14:05:00Z', fingerprint: 'f' }), 'x', T0 + 3_600_000);
    expect(a).toMatchObject({ alertname: 'ApiDown', status: 'resolved', severity: 'none', source: 'alertmanager', receivedAt: Date.parse('2025-11-25T14:05:00Z') });
  });
});
