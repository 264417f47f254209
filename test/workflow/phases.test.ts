// Every phase of an incident on the Java time-skipping server, with the outside world as plain
// functions (test/support/fake-activities.ts): detect → decide (the governor's gates, the kill
// switch) → act → verify → escalate, and what a failed action, a failed verification, the
// ladder's PagerDuty rung and the resolved alert do. Time skips, so each takes a moment.
import { describe, expect, it } from 'vitest';
import { alertSignal, statusQuery, type IncidentStatus } from '../../workflows/contracts.js';
import { fakeWorld } from '../support/fake-activities.js';
import { demoPlaybook, firingAlert } from '../support/fixtures.js';
import { entries, startIncident, timeline, useWorkflowHarness, waitForStatus } from '../support/workflow-harness.js';

const world = fakeWorld();
const h = useWorkflowHarness('phases', { world });
const TARGET = 'http://target.invalid';

describe('the happy path', () => {
  it('alert → the step acts once → verification passes → resolved; every entry reaches the sinks once', async () => {
    world.healthy = () => true;
    const pb = demoPlaybook(TARGET, { name: 'happy' });
    const i = await startIncident(h, pb);
    const final = (await i.handle.result()) as IncidentStatus;
    expect(final.status).toBe('resolved');
    const acts = world.inputs('httpAction').filter((a) => a.request.url.startsWith(TARGET));
    expect(acts).toHaveLength(1);
    expect(acts[0]).toMatchObject({ dryRun: false, request: { method: 'POST', url: `${TARGET}/remediate` } });
    const t = await timeline(i.handle);
    expect(entries(t, 'resolution')).toHaveLength(1);
    const mine = world.published.filter((e) => t.some((x) => x.seq === e.seq && x.message === e.message));
    expect(mine.map((e) => e.seq)).toEqual(t.map((e) => e.seq));
  });
});
