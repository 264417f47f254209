// Maintenance windows on the Java time-skipping test server: a step is held until the window
// ends (even when that is longer than limits.maxHold), then acts and resolves.
import { describe, expect, it } from 'vitest';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import { governorCaller } from '../../activities/governor.js';
import { governorStateQuery, governorWorkflowId, setPausedUpdate, statusQuery } from '../../workflows/contracts.js';
import { demoPlaybook } from '../support/fixtures.js';
import { appliedFor, entries, HOUR, MINUTE, startIncident, timeline, waitForStatus, useWorkflowHarness } from '../support/workflow-harness.js';

const h = useWorkflowHarness('maintenance');

const iso = (ms: number): string => new Date(ms).toISOString();
type Windows = NonNullable<PlaybookInput['maintenanceWindows']>;
const windowPlaybook = (maintenanceWindows: Windows) => demoPlaybook(h.demo.url, { maintenanceWindows });

describe('maintenance windows', () => {
  it('holds the step until a 2h window ends (longer than maxHold 1h), then acts and resolves', async () => {
    h.demo.state.fault = 'outage';
    const now = await h.env.currentTimeMs();
    const end = now + 2 * HOUR;
    const pb = windowPlaybook([{ start: iso(now - 5 * MINUTE), end: iso(end), reason: 'db upgrade' }]);
    expect(pb.limits.maxHold).toBe('1h');
    const i = await startIncident(h, pb);

    const held = await waitForStatus(i.handle, (s) => s.status === 'holding', 'the maintenance hold');
    expect(held.phase).toBe('gates');
    let t = await timeline(i.handle);
    const [gate] = entries(t, 'gate', 'maintenance window active');
    expect(gate!.message).toBe(`holding step 1/1 (restart): maintenance window active (db upgrade); holding until ${iso(end)}`);
    expect(gate!.data).toMatchObject({
      decisions: expect.arrayContaining([expect.objectContaining({ gate: 'maintenance-window', outcome: 'wait', untilMs: end })]),
    });

    // Past maxHold, still inside the window: still holding, nothing done, not escalated.
    await h.env.sleep(90 * MINUTE);
    const mid = await i.handle.query(statusQuery);
    expect(mid.status).toBe('holding');
    expect(mid.escalationReason).toBeUndefined();
    expect(appliedFor(h.demo, i.incidentId)).toBe(0);

    const final = await i.handle.result();
    expect(final.status).toBe('resolved');
    expect(final.outcome).toBe('healed by step 1/1 (restart)');
    expect(appliedFor(h.demo, i.incidentId)).toBe(1);

    t = await timeline(i.handle);
    expect(entries(t, 'gate', 'maintenance window')).toHaveLength(1); // one note per distinct hold
    const [passed] = entries(t, 'gate', 'gates passed');
    const [started] = entries(t, 'action', 'started');
    expect(passed!.at).toBeGreaterThanOrEqual(end);
    expect(started!.at).toBeGreaterThanOrEqual(end);
    expect(started!.at).toBeLessThan(end + 5 * MINUTE); // acted when the window ended, not much later
    expect(entries(t, 'escalation')).toEqual([]);
  });

  it('overlapping windows hold the step for 3.5h in all: not cut by maxHold, lock lease kept', async () => {
    h.demo.state.fault = 'outage';
    const now = await h.env.currentTimeMs();
    const firstEnd = now + 2.5 * HOUR;
    const secondEnd = now + 3.5 * HOUR;
    const i = await startIncident(
      h,
      windowPlaybook([
        { start: iso(now - 5 * MINUTE), end: iso(firstEnd), reason: 'db upgrade' },
        { start: iso(now + 1 * HOUR), end: iso(secondEnd), reason: 'network change' },
      ]),
    );
    await waitForStatus(i.handle, (s) => s.status === 'holding', 'the maintenance hold');

    // 2h15m into the first window (past maxHold and the 2h lock lease): still holding, still
    // owning the target, because the hold loop renews the lease.
    await h.env.sleep(135 * MINUTE);
    expect((await i.handle.query(statusQuery)).status).toBe('holding');
    const governor = await h.env.client.workflow.getHandle(governorWorkflowId(h.taskQueue)).query(governorStateQuery);
    const lock = governor.locks[i.alert.labels.service!];
    expect(lock).toMatchObject({ workflowId: i.handle.workflowId, incidentId: i.incidentId });
    expect(lock!.expiresAt).toBeGreaterThan(await h.env.currentTimeMs());

    const final = await i.handle.result();
    expect(final.status).toBe('resolved');
    expect(appliedFor(h.demo, i.incidentId)).toBe(1);
    const t = await timeline(i.handle);
    expect(entries(t, 'gate').map((e) => e.message)).toEqual([
      `holding step 1/1 (restart): maintenance window active (db upgrade); holding until ${iso(firstEnd)}`,
      `holding step 1/1 (restart): maintenance window active (network change); holding until ${iso(secondEnd)}`,
      expect.stringMatching(/^gates passed for step 1\/1 \(restart\)/),
    ]);
    expect(entries(t, 'action', 'started')[0]!.at).toBeGreaterThanOrEqual(secondEnd);
    expect(entries(t, 'escalation')).toEqual([]);
  });

  it('time inside a window does not count toward maxHold; a kill-switch hold after it does', async () => {
    h.demo.state.fault = 'outage';
    // The kill switch, set on this file's governor the way the activities reach it.
    const pause = (paused: boolean) =>
      governorCaller({ client: h.env.client, taskQueue: h.taskQueue })(
        setPausedUpdate,
        { paused, by: 'test', reason: 'change freeze' },
        `pause-${String(paused)}-${Date.now()}`,
      );
    const now = await h.env.currentTimeMs();
    const end = now + 30 * MINUTE;
    const pb = demoPlaybook(h.demo.url, {
      maintenanceWindows: [{ start: iso(now - MINUTE), end: iso(end) }],
      limits: { maxHold: '2m' },
    });
    await pause(true);
    try {
      const i = await startIncident(h, pb);
      const final = await i.handle.result();
      expect(final.status).toBe('escalated');
      expect(final.escalationReason).toBe('held longer than 2m: automation is paused by test: change freeze; holding until resumed');
      const t = await timeline(i.handle);
      const [escalating] = entries(t, 'escalation', 'escalating: held longer than 2m');
      expect(escalating!.at).toBeGreaterThanOrEqual(end + 2 * MINUTE);
      expect(escalating!.at).toBeLessThan(end + 3 * MINUTE);
      expect(entries(t, 'action')).toEqual([]);
      expect(appliedFor(h.demo, i.incidentId)).toBe(0);
    } finally {
      await pause(false);
    }
  });
});
