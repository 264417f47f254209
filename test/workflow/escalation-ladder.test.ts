// The escalation ladder's slack-group rung on the Java time-skipping test server: the group gets
// 15 minutes to take the incident; nobody does → the next rung pages PagerDuty (the local HTTPS
// Events API stand-in, through pdjs); someone does → they own it, the ladder stops, no page.
import { describe, expect, it } from 'vitest';
import { alertSignal, statusQuery, takeUpdate, type IncidentStatus } from '../../workflows/contracts.js';
import { signedUpdates } from '../support/identity.js';
import { pollUntil } from '../support/poll.js';
import { demoPlaybook } from '../support/fixtures.js';
import { appliedFor, entries, MINUTE, startIncident, timeline, updateRejection, waitForStatus, useWorkflowHarness } from '../support/workflow-harness.js';

const ROUTING_KEY = 'LADDERR0UT1NGKEY0123456789abcdef';
const signed = () => signedUpdates(h.env.client);
const pd = () => h.pd!;
const h = useWorkflowHarness('ladder', { pagerduty: true, secrets: { PD_LADDER: ROUTING_KEY } });

/** A step that only dry-runs (so the incident escalates at once), then the ladder: @oncall for 15m, then PagerDuty. */
const ladderPlaybook = () =>
  demoPlaybook(h.demo.url, {
    holdAfterEscalation: '2h',
    steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${h.demo.url}/remediate`, expectStatus: [200] }, dryRun: true }],
    escalation: [
      { kind: 'slack-group', group: '@oncall', wait: '15m' },
      { kind: 'pagerduty', routingKeySecret: 'PD_LADDER' },
    ],
  });
const pagesFor = (incidentId: string) => pd().events.filter((e) => (e.body as { dedup_key?: string }).dedup_key === incidentId);
const waiting = (s: IncidentStatus) => s.ladder?.waiting !== undefined;
const until = <T>(get: () => T | Promise<T>, ok: (v: T) => boolean, what: string, ms = 20_000): Promise<T> => pollUntil(get, ok, what, ms);

describe('escalation ladder on skipped time', () => {
  it('nobody takes it within 15 minutes: the next rung pages PagerDuty; the alert resolving later resolves the page', async () => {
    const i = await startIncident(h, ladderPlaybook());
    const asked = await waitForStatus(i.handle, waiting, 'the take request');
    expect(asked.status).toBe('escalated');
    expect(asked.ladder).toMatchObject({ rungs: ['ask @oncall to take it (waits 15m)', 'page PagerDuty'], groups: ['@oncall'], current: 0, missed: [] });
    expect(asked.ladder!.waiting!.until - asked.ladder!.waiting!.since).toBe(15 * MINUTE);

    await h.env.sleep(14 * MINUTE);
    const still = await i.handle.query(statusQuery);
    expect(still.ladder).toMatchObject({ current: 0, waiting: { rung: 0, group: '@oncall' } });
    expect(pagesFor(i.incidentId)).toEqual([]);

    await h.env.sleep(2 * MINUTE);
    const paged = await waitForStatus(i.handle, (s) => s.ladder?.current === 2, 'the PagerDuty rung');
    expect(paged.ladder).toMatchObject({ missed: [0] });
    expect(paged.ladder!.waiting).toBeUndefined();
    await until(() => pagesFor(i.incidentId), (p) => p.some((e) => e.status === 202), 'the page to reach the stand-in');
    expect(pd().alertsFor(i.incidentId)).toHaveLength(1);

    const t = await timeline(i.handle);
    const [missed] = entries(t, 'escalation', 'nobody in @oncall took it within 15m');
    const [page] = entries(t, 'escalation', 'paging PagerDuty');
    expect(missed!.at - entries(t, 'escalation', 'asking @oncall to take it')[0]!.at).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(page!.at).toBeGreaterThanOrEqual(missed!.at);
    expect(entries(t, 'escalation', 'escalation ladder: 1) ask @oncall to take it (waits 15m); 2) page PagerDuty')).toHaveLength(1);
    // too late to take it now
    expect(await updateRejection(signed().take(i.handle.workflowId, { user: 'U0BOB', rung: 0 }))).toContain('not waiting for anyone');

    await i.handle.signal(alertSignal, [{ ...i.alert, status: 'resolved' }]);
    const final = await i.handle.result();
    expect(final.status).toBe('resolved');
    expect(pagesFor(i.incidentId).filter((e) => e.status === 202).map((e) => (e.body as { event_action: string }).event_action)).toEqual(['trigger', 'resolve']);
  });

  it('a member takes it after 5 minutes: they own it, the ladder stops, PagerDuty is never paged; their resolve ends it', async () => {
    const i = await startIncident(h, ladderPlaybook());
    await waitForStatus(i.handle, waiting, 'the take request');
    await h.env.sleep(5 * MINUTE);

    expect(await updateRejection(signed().take(i.handle.workflowId, { user: 'U0BOB', rung: 1 }))).toContain('no longer current');
    expect(await updateRejection(i.handle.executeUpdate(takeUpdate, { args: [{ user: '', rung: 0 }] }))).toMatch(/^invalid take/);
    const taken = await signed().take(i.handle.workflowId, { user: 'U0BOB', rung: 0, via: '@oncall' });
    expect(taken).toMatchObject({ by: 'U0BOB', rung: 0 });
    expect(await updateRejection(signed().take(i.handle.workflowId, { user: 'U0CAROL', rung: 0 }))).toBe('already taken by U0BOB');

    const owned = await waitForStatus(i.handle, (s) => s.status === 'acknowledged', 'acknowledged');
    expect(owned.owner).toMatchObject({ by: 'U0BOB', rung: 0, via: '@oncall' });

    // well past the 15 minutes: still no page, still owned
    await h.env.sleep(40 * MINUTE);
    const later = await i.handle.query(statusQuery);
    expect(later).toMatchObject({ status: 'acknowledged', ladder: { current: 0, missed: [] } });
    expect(pagesFor(i.incidentId)).toEqual([]);

    const done = await signed().resolve(i.handle.workflowId, { user: 'U0BOB', reason: 'restarted the node pool' });
    expect(done.by).toBe('U0BOB');
    const final = await i.handle.result();
    expect(final).toMatchObject({ status: 'resolved', outcome: 'resolved by U0BOB: restarted the node pool', resolvedBy: { by: 'U0BOB' } });
    const t = await timeline(i.handle);
    expect(entries(t, 'escalation', 'taken by U0BOB (@oncall) from @oncall; the escalation ladder stops here')).toHaveLength(1);
    expect(entries(t, 'escalation', 'paging PagerDuty')).toEqual([]);
    expect(entries(t, 'escalation', 'resolving the PagerDuty alert')).toEqual([]);
    expect(pagesFor(i.incidentId)).toEqual([]);
  });

  it('a rung with `after` fires that long after the previous one: the webhook rung notifies 10 minutes after the hand-over', async () => {
    const pb = demoPlaybook(h.demo.url, {
      holdAfterEscalation: '1h',
      steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${h.demo.url}/remediate`, expectStatus: [200] }, dryRun: true }],
      escalation: [
        { kind: 'record', to: 'team-lead' },
        { kind: 'webhook', after: '10m', request: { method: 'POST', url: `${h.demo.url}/remediate`, expectStatus: [200] } },
      ],
    });
    const i = await startIncident(h, pb);
    const due = await waitForStatus(i.handle, (s) => s.ladder?.current === 1 && s.ladder.dueAt !== undefined, 'rung 2 waiting for its time');
    expect(due.ladder!.rungs).toEqual(['hand over to team-lead', `notify POST ${h.demo.url}/remediate, after 10m`]);
    const [handedOver] = entries(await timeline(i.handle), 'escalation', 'handed over to team-lead');
    expect(due.ladder!.dueAt! - handedOver!.at).toBe(10 * MINUTE);

    await h.env.sleep(9 * MINUTE);
    expect((await i.handle.query(statusQuery)).ladder!.current).toBe(1);
    expect(appliedFor(h.demo, i.incidentId)).toBe(0);

    await h.env.sleep(2 * MINUTE);
    await waitForStatus(i.handle, (s) => s.ladder?.current === 2, 'the webhook rung');
    expect(appliedFor(h.demo, i.incidentId)).toBe(1); // Idempotency-Key <incident>:escalation-1
    const [notified] = entries(await timeline(i.handle), 'escalation', `notified POST ${h.demo.url}/remediate`);
    expect(notified!.at - handedOver!.at).toBeGreaterThanOrEqual(10 * MINUTE);
    await i.handle.terminate('test done');
  });

  it('a person resolving an incident that waits for approval ends it at once: no expiry, no action, no escalation', async () => {
    const [restart] = demoPlaybook(h.demo.url).steps;
    const pb = demoPlaybook(h.demo.url, { steps: [{ ...restart!, risk: 'high', requiresApproval: true, approvers: ['alice'], approvalTimeout: '30m' }] });
    const i = await startIncident(h, pb);
    await waitForStatus(i.handle, (s) => s.status === 'awaiting_approval', 'the approval request');
    await h.env.sleep(5 * MINUTE);
    await signed().resolve(i.handle.workflowId, { user: 'carol', reason: 'false alarm, checked by hand' });
    expect(await updateRejection(signed().resolve(i.handle.workflowId, { user: 'dave' }))).toMatch(/already (resolved by carol|ended|completed)|^update \S+ not found$/); // refused by medic, or by Temporal once the run has closed (before or while the update is delivered)
    const final = await i.handle.result();
    expect(final).toMatchObject({ status: 'resolved', outcome: 'resolved by carol: false alarm, checked by hand', resolvedBy: { by: 'carol' } });
    const t = await timeline(i.handle);
    expect(entries(t, 'approval', 'expired')).toEqual([]);
    expect(entries(t, 'action')).toEqual([]);
    expect(entries(t, 'escalation')).toEqual([]);
    expect(appliedFor(h.demo, i.incidentId)).toBe(0);
    expect(final.endedAt! - final.startedAt).toBeLessThan(10 * MINUTE);
  });
});
