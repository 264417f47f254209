// Bounded history on the Java time-skipping test server: with a tiny maxHistoryEvents, a long
// verification loop continues-as-new and the incident carries on where it was.
import { describe, expect, it } from 'vitest';
import { alertSignal, SearchAttributes, statusQuery } from '../../workflows/contracts.js';
import { demoPlaybook, firingAlert } from '../support/fixtures.js';
import { appliedFor, entries, MINUTE, startIncident, timeline, waitForStatus, useWorkflowHarness } from '../support/workflow-harness.js';

const h = useWorkflowHarness('can');

describe('continue-as-new', () => {
  it('a long verification continues as new, keeping identity, timeline, alert count and the window', async () => {
    h.demo.state.fault = 'outage';
    // 2m window probed every 10s: 13 probes of ~8 history events each, far over 60 events.
    const base = demoPlaybook(h.demo.url);
    const pb = demoPlaybook(h.demo.url, {
      steps: [{ ...base.steps[0]!, verification: { http: { url: `${h.demo.url}/healthz` }, window: '2m', interval: '10s', deadline: '10m' } }],
    });
    const i = await startIncident(h, pb, { options: { maxHistoryEvents: 60 } });
    const { handle, firstRunId, incidentId } = i;

    // Two more alerts (a repeat and a correlated one) while the first run is still running; time
    // skipping is locked, so the 10s probe interval keeps it there for a while.
    const repeat = { ...i.alert, receivedAt: i.alert.receivedAt + 1 };
    const correlated = { ...firingAlert({ service: i.alert.labels.service! }), fingerprint: 'correlated-1' };
    await handle.signal(alertSignal, [repeat, correlated]);
    const early = await waitForStatus(handle, (s) => s.alertsReceived === 3, 'the extra alerts');
    expect(early).toMatchObject({ continuedAsNew: 0, incidentId });
    expect((await handle.describe()).runId).toBe(firstRunId);
    const before = await timeline(handle);
    expect(before.length).toBeGreaterThanOrEqual(5);

    const final = await handle.result();
    expect(final.status).toBe('resolved');
    expect(final.outcome).toBe('healed by step 1/1 (restart)');
    expect(final.continuedAsNew).toBeGreaterThanOrEqual(1);
    expect(final.incidentId).toBe(incidentId);
    expect(final.alertsReceived).toBe(3);
    expect(Object.keys(final.fingerprints)).toHaveLength(2);
    expect(appliedFor(h.demo, incidentId)).toBe(1); // the action was not repeated by a new run

    const d = await handle.describe();
    expect(d.runId).not.toBe(firstRunId);
    expect(d.status.name).toBe('COMPLETED');
    expect(d.historyLength).toBeLessThanOrEqual(60 + 20); // the last run stayed small too
    expect((await h.env.client.workflow.getHandle(handle.workflowId, firstRunId).describe()).status.name).toBe(
      'CONTINUED_AS_NEW',
    );
    expect(d.typedSearchAttributes.get(SearchAttributes.status)).toBe('resolved');
    expect(d.typedSearchAttributes.get(SearchAttributes.service)).toBe(i.alert.labels.service);

    // The latest run's timeline starts with everything the first run recorded.
    const after = await timeline(handle);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(final.timelineDropped).toBe(0);
    expect(entries(after, 'alert', 'incident opened')).toHaveLength(1);
    expect(entries(after, 'lock', 'acquired')).toHaveLength(1);
    expect(entries(after, 'action', 'started')).toHaveLength(1);
    expect(entries(after, 'verification', 'verifying')).toHaveLength(1);
    expect(entries(after, 'verification', 'verified: healthy for 2m (13 probes)')).toHaveLength(1);

    // The window carried across runs instead of starting over: 13 probes, 2 minutes.
    const v = final.verify!;
    expect(v.probes).toBe(13);
    expect(final.endedAt! - v.startedAt).toBeGreaterThanOrEqual(2 * MINUTE);
    expect(final.endedAt! - v.startedAt).toBeLessThan(2 * MINUTE + 10_000);
    expect((await handle.query(statusQuery)).continuedAsNew).toBe(final.continuedAsNew);
  });
});
