// Bounded incident state under a flood, on the Java time-skipping test server: the overflow
// incident (alert groups over a playbook's open-incident cap) absorbs hundreds of distinct alerts,
// continues as new while it holds after escalating, keeps at most fingerprintCap fingerprints
// across runs (evictions counted), never acts, and its hold is not restarted by continue-as-new.
import { describe, expect, it } from 'vitest';
import { alertSignal, statusQuery, type Alert } from '../../workflows/contracts.js';
import { signedUpdates } from '../support/identity.js';
import { demoPlaybook, firingAlert } from '../support/fixtures.js';
import type { incidentWorkflow } from '../../workflows/incident.js';
import { appliedFor, entries, HOUR, startIncident, timeline, waitForStatus, useWorkflowHarness, type IncidentHandle } from '../support/workflow-harness.js';

const h = useWorkflowHarness('bounds');

const CAP = 20;
const BATCHES = 30;
const PER_BATCH = 10;

describe('bounded fingerprints', () => {
  it(`an overflow incident flooded with ${BATCHES * PER_BATCH} distinct alerts keeps at most ${CAP} fingerprints across continue-as-new`, async () => {
    const pb = demoPlaybook(h.demo.url);
    const reason = 'playbook demo-down has 3 open incidents (intake.limits.maxOpenIncidentsPerPlaybook = 3)';
    const i = await startIncident(h, pb, { options: { maxHistoryEvents: 80, fingerprintCap: CAP }, overflow: { reason, cap: 3 } });
    // Without a run id, signals and queries reach the latest run (the signalWithStart handle
    // keeps signalling the first one).
    const latest = h.env.client.workflow.getHandle<typeof incidentWorkflow>(i.handle.workflowId) as IncidentHandle;
    const escalated = await waitForStatus(i.handle, (s) => s.status === 'escalated', 'the overflow incident to escalate');
    expect(escalated.escalationReason).toBe(`alert flood: ${reason}`);

    for (let b = 0; b < BATCHES; b++) {
      const batch: Alert[] = Array.from({ length: PER_BATCH }, (_, k) => ({ ...firingAlert(), fingerprint: `flood-${b}-${k}` }));
      await latest.signal(alertSignal, batch);
      await waitForStatus(latest, (s) => s.alertsReceived === 1 + (b + 1) * PER_BATCH, `batch ${b + 1}`);
    }
    const s = await latest.query(statusQuery);
    expect(s.continuedAsNew).toBeGreaterThanOrEqual(1); // about 10 history events per batch: 2 or 3 runs
    expect(s.incidentId).toBe(i.incidentId);
    expect(s.alertsReceived).toBe(1 + BATCHES * PER_BATCH);
    expect(Object.keys(s.fingerprints)).toHaveLength(CAP);
    expect(s.fingerprintOrder).toEqual(Array.from({ length: CAP }, (_, k) => `flood-${BATCHES - 2 + Math.floor(k / PER_BATCH)}-${k % PER_BATCH}`));
    expect(s.fingerprintsEvicted).toEqual({ total: 1 + BATCHES * PER_BATCH - CAP, firing: 1 + BATCHES * PER_BATCH - CAP });
    // The run continues as new once past 80 events (after its handlers and publishing finish).
    expect((await latest.describe()).historyLength).toBeLessThanOrEqual(80 + 80);
    // The ladder ran once, not again in every run.
    expect(entries(await timeline(latest), 'escalation', 'escalating:').length).toBeLessThanOrEqual(1);
    expect(s.ladder?.current).toBe(pb.escalation.length);

    // The 4h hold counts from the escalation: continue-as-new carried it, it did not restart it.
    expect(escalated.holdUntil! - escalated.startedAt).toBeGreaterThanOrEqual(4 * HOUR);
    expect(escalated.holdUntil! - escalated.startedAt).toBeLessThan(4 * HOUR + 5 * 60_000);
    expect(s.holdUntil).toBe(escalated.holdUntil);

    // A person ends it. (Not time skipping to the end of the hold: the Java test server sometimes
    // stops skipping time after a signal raced a continue-as-new.)
    await signedUpdates(h.env.client).resolve(i.handle.workflowId, { user: 'oncall', reason: 'flood over' });
    const final = await latest.result();
    expect(final.status).toBe('resolved');
    expect(final.outcome).toBe('resolved by oncall: flood over');
    // Nothing noted was left unpublished (entries noted while continuing as new were carried).
    expect(final.publishedSeq).toBe(final.timelineDropped + (await timeline(latest)).length);
    expect(appliedFor(h.demo, i.incidentId)).toBe(0); // never acted
    expect(entries(await timeline(latest), 'action')).toEqual([]);
  });
});
