// Verification windows on the Java time-skipping test server: after the action the probe must pass
// continuously for `window` (2m here, probing every 10s); a failure restarts the window; no
// healthy window by `deadline` fails the step, moves on, and finally escalates.
import { describe, expect, it } from 'vitest';
import type { Fault } from '../../dev/demo-service.js';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import { governorStateQuery, governorWorkflowId } from '../../workflows/contracts.js';
import { demoPlaybook } from '../support/fixtures.js';
import { appliedFor, entries, healthScript, MINUTE, startIncident, timeline, useWorkflowHarness } from '../support/workflow-harness.js';

const h = useWorkflowHarness('verify');

const SECOND = 1_000;
const WINDOW = 2 * MINUTE;

/** Steps that POST /remediate, each verified by GET /healthz for 2m every 10s. */
function verifyPlaybook(stepNames: string[], deadline: string) {
  return demoPlaybook(h.demo.url, {
    steps: stepNames.map((name) => ({
      name,
      action: 'http' as const,
      params: { method: 'POST' as const, url: `${h.demo.url}/remediate`, expectStatus: [200] },
      timeout: '5s',
      retries: 1,
      verification: { http: { url: `${h.demo.url}/healthz` }, window: '2m', interval: '10s', deadline },
    })),
  } satisfies Partial<PlaybookInput>);
}

/** Runs one incident while the demo's health follows `script` over its probes. */
async function runWith(pb: ReturnType<typeof verifyPlaybook>, script: (probe: number) => Fault) {
  h.demo.state.fault = 'stubborn'; // the remediation itself changes nothing: the script decides
  const health = healthScript(h.demo, script);
  try {
    const i = await startIncident(h, pb);
    const final = await i.handle.result();
    return { i, final, probes: health.probes, t: await timeline(i.handle) };
  } finally {
    health.stop();
  }
}

describe('verification window', () => {
  it('resolves only once the service has been healthy for the whole window', async () => {
    // Unhealthy for the first 6 probes (0s..50s after the action), healthy from 60s on.
    const { i, final, probes, t } = await runWith(verifyPlaybook(['restart'], '10m'), (n) => (n <= 6 ? 'stubborn' : 'none'));
    expect(final.status).toBe('resolved');
    expect(final.outcome).toBe('healed by step 1/1 (restart)');
    expect(appliedFor(h.demo, i.incidentId)).toBe(1);

    const v = final.verify!;
    expect(probes).toBe(19); // 6 failing + 13 passing (0s, 10s, … 120s of the window)
    expect(v.probes).toBe(19);
    expect(v.passingSince! - v.startedAt).toBeGreaterThanOrEqual(60 * SECOND);
    expect(v.passingSince! - v.startedAt).toBeLessThan(70 * SECOND);
    expect(final.endedAt! - v.passingSince!).toBeGreaterThanOrEqual(WINDOW);
    expect(final.endedAt! - v.passingSince!).toBeLessThan(WINDOW + 10 * SECOND);

    const verification = entries(t, 'verification').map((e) => e.message);
    expect(verification).toEqual([
      expect.stringMatching(/^verifying step 1\/1 \(restart\): GET .*\/healthz must pass for 2m \(deadline 10m\)$/),
      expect.stringMatching(/^probe failed: .*\/healthz answered 503$/),
      expect.stringMatching(/^verified: healthy for 2m \(19 probes\); .*\/healthz answered 200/),
    ]);
    const [verified] = entries(t, 'verification', 'verified');
    expect(verified!.at - entries(t, 'verification', 'verifying')[0]!.at).toBeGreaterThanOrEqual(60 * SECOND + WINDOW);
  });

  it('a flapping service restarts the window each time a probe fails', async () => {
    // healthy 0–20s, fails at 30s, healthy 40–100s, fails at 110s (10s short of 2m), then healthy.
    const { final, probes, t } = await runWith(verifyPlaybook(['restart'], '10m'), (n) =>
      n === 4 || n === 12 ? 'stubborn' : 'none',
    );
    expect(final.status).toBe('resolved');
    const v = final.verify!;
    expect(probes).toBe(25); // the last window runs from probe 13 (120s) to probe 25 (240s)
    expect(v.probes).toBe(25);
    expect(v.passingSince! - v.startedAt).toBeGreaterThanOrEqual(120 * SECOND);
    expect(v.passingSince! - v.startedAt).toBeLessThan(130 * SECOND);
    expect(final.endedAt! - v.passingSince!).toBeGreaterThanOrEqual(WINDOW);
    expect(final.endedAt! - v.startedAt).toBeLessThan(250 * SECOND);

    const failed = entries(t, 'verification', 'probe failed');
    expect(failed).toHaveLength(2); // both interrupted a passing streak, so both were noted
    const start = entries(t, 'verification', 'verifying')[0]!.at;
    expect(failed.map((e) => Math.round((e.at - start) / (10 * SECOND)))).toEqual([3, 11]);
    expect(entries(t, 'verification', 'verified: healthy for 2m (25 probes)')).toHaveLength(1);
  });

  it('never healthy: each step fails at its deadline, the next is tried, then the incident escalates', async () => {
    const pb = verifyPlaybook(['restart', 'restart-harder'], '3m');
    const { i, final, probes, t } = await runWith(pb, () => 'stubborn');
    expect(final.status).toBe('escalated');
    expect(final.escalationReason).toBe('all 2 step(s) tried; last: verification failed');
    expect(appliedFor(h.demo, i.incidentId)).toBe(2); // each step acted once, with its own key
    expect(Object.keys(h.demo.state.applied).filter((k) => k.startsWith(i.incidentId)).sort()).toEqual([
      `${i.incidentId}:step-0:try-1`,
      `${i.incidentId}:step-1:try-1`,
    ]);
    expect(probes).toBe(2 * 19); // 0s, 10s, … 180s for each step

    const started = entries(t, 'verification', 'verifying');
    const failed = entries(t, 'verification', 'verification failed');
    expect(started).toHaveLength(2);
    expect(failed).toHaveLength(2);
    for (const [n, f] of failed.entries()) {
      expect(f.step).toBe(n);
      expect(f.message).toMatch(/^verification failed: not healthy for 2m within 3m; last: .*\/healthz answered 503$/);
      expect(f.data).toEqual({ evidence: `${h.demo.url}/healthz answered 503`, probes: 19 });
      expect(f.at - started[n]!.at).toBeGreaterThanOrEqual(3 * MINUTE);
      expect(f.at - started[n]!.at).toBeLessThan(3 * MINUTE + 10 * SECOND);
    }
    expect(entries(t, 'action', 'verification failed; moving on to step 2/2 (restart-harder)')).toHaveLength(1);
    const escalation = entries(t, 'escalation', 'escalating: all 2 step(s) tried; last: verification failed');
    expect(escalation).toHaveLength(1);
    expect(escalation[0]!.at).toBeGreaterThanOrEqual(failed[1]!.at);
    expect(entries(t, 'escalation', 'handed over to on-call')).toHaveLength(1);

    // It acted and still failed: the governor keeps automation off the target for the cooldown.
    const governor = await h.env.client.workflow.getHandle(governorWorkflowId(h.taskQueue)).query(governorStateQuery);
    expect(governor.cooldowns[i.alert.labels.service!]).toMatchObject({ incidentId: i.incidentId });
    expect(governor.locks[i.alert.labels.service!]).toBeUndefined();
  });
});
