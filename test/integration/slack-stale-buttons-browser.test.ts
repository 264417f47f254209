// No stale buttons: incidents waiting for approval are ended every way they can end — resolved by
// their alert, resolved by hand, denied (escalated), expired (escalated), and superseded by a
// later step's request — and the stand-in's web page, in headless Chromium, must show no live
// Approve / Deny… / Take it / Resolve button left in their threads, each request saying why.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useSlackMedicInBrowser } from '../support/browser.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { signedUpdates } from '../support/identity.js';
import { U, waitUntil } from '../support/slack.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Playbook } from '../../src/playbooks/schema.js';

const OUT = fileURLToPath(new URL('../../test-results/slack-stale-buttons/', import.meta.url));
const ui = useSlackMedicInBrowser(OUT);

type Step = Playbook['steps'][number];
const guarded = (name: string, over: Partial<Step> = {}): Step =>
  ({
    name,
    action: 'http',
    params: { method: 'POST', url: `${ui.m.demo.url}/remediate`, expectStatus: [200] },
    risk: 'high',
    requiresApproval: true,
    approvers: [U.alice],
    approvalTimeout: '10m',
    timeout: '5s',
    verification: { http: { url: `${ui.m.demo.url}/healthz` }, window: '1s', interval: '250ms', deadline: '20s' },
    ...over,
  }) as Step;
const playbook = (name: string, steps: Step[]): Playbook => demoPlaybook(ui.m.demo.url, { name, holdAfterEscalation: '1s', steps });

describe('no stale buttons in the local Slack page', () => {
  it('every way an incident waiting for approval ends leaves no live button in its thread', async () => {
    const m = ui.m;
    m.demo.state.fault = 'outage';
    const requests = (id: string) => m.threadOf(id).filter((x) => (x.blocks as { block_id?: string }[] | undefined)?.some((b) => b.block_id === 'request'));
    const live = (id: string) => [m.rootOf(id)!, ...m.threadOf(id)].filter((x) => JSON.stringify(x.blocks ?? []).includes('"button"'));
    const pendingRequests = (id: string, n = 1) => waitUntil(`${id}: ${n} approval request(s)`, async () => ((await m.status(id)).status === 'awaiting_approval' && requests(id).length >= n ? true : undefined));

    // 1. The alert resolves while the request waits.
    const byAlertPb = playbook('stale-by-alert', [guarded('restart')]);
    const byAlert = await m.start(byAlertPb, { labels: { service: 'stale-by-alert' } });
    // 2. A person resolves the incident by hand (`medic resolve`).
    const byHand = await m.start(playbook('stale-by-hand', [guarded('restart')]));
    // 3. Denied: the incident escalates (and ends after its hold).
    const denied = await m.start(playbook('stale-denied', [guarded('restart')]));
    // 4. Nobody answers: the request expires and the incident escalates.
    const expired = await m.start(playbook('stale-expired', [guarded('restart', { approvalTimeout: '3s' })]));
    // 5. Superseded: step 1 approved but fails, step 2 asks; then the alert resolves.
    const failing = { params: { method: 'POST', url: `${m.demo.url}/remediate`, expectStatus: [599] }, retries: 0, attempts: 1 } as Partial<Step>;
    const supersededPb = playbook('stale-superseded', [guarded('restart', failing), guarded('failover')]);
    const superseded = await m.start(supersededPb, { labels: { service: 'stale-superseded' } });

    const updates = signedUpdates(m.env.client);
    const resolvedAlert = (pb: Playbook, service: string) =>
      ingestAlerts({ client: m.env.client, taskQueue: m.taskQueue, playbooks: () => [pb], log: silentLog }, [firingAlert({ service }, 'resolved')]);
    await Promise.all([pendingRequests(byAlert), pendingRequests(byHand), pendingRequests(denied), pendingRequests(superseded)]);
    await resolvedAlert(byAlertPb, 'stale-by-alert');
    await updates.resolve(byHand, { user: U.root, reason: 'fixed it by hand' });
    await updates.decide(denied, { decision: 'deny', user: U.alice, reason: 'not during the migration' });
    await updates.decide(superseded, { decision: 'approve', user: U.alice });
    await pendingRequests(superseded, 2);
    await resolvedAlert(supersededPb, 'stale-superseded');

    const all = { byAlert, byHand, denied, expired, superseded };
    const finals = await Promise.all(Object.values(all).map((id) => m.env.client.workflow.getHandle(id).result() as Promise<{ status: string }>));
    expect(finals.map((f) => f.status)).toEqual(['resolved', 'resolved', 'escalated', 'escalated', 'resolved']);
    for (const [how, id] of Object.entries(all)) await waitUntil(`${how}: no live button`, () => live(id).length === 0, 30_000);

    // What each request says instead of its buttons.
    const said = (id: string) => requests(id).map((x) => JSON.stringify(x.blocks));
    expect(said(byAlert)[0]).toContain('No longer open since');
    expect(said(byAlert)[0]).toContain('the alert resolved before medic acted');
    expect(said(byHand)[0]).toContain(`the incident was resolved by ${U.root}`);
    expect(said(denied)[0]).toContain('Denied by <@U0ALICE>');
    expect(said(expired)[0]).toContain('Expired unanswered');
    expect(said(superseded)[0]).toContain('Approved by <@U0ALICE>');
    expect(said(superseded)[1]).toContain('the alert resolved before medic acted');

    // And what a person sees: the page renders these threads with no button in them.
    const page = await ui.browser.newPage({ viewport: { width: 1280, height: 1600 } });
    await page.goto(`${m.slack.url}/?user=${U.alice}`);
    await page.getByText('Approval needed').first().waitFor();
    await page.getByText('the alert resolved before medic acted').first().waitFor();
    const tsOf = Object.values(all).flatMap((id) => [m.rootOf(id)!, ...m.threadOf(id)].map((x) => x.ts));
    const buttons = await page.locator('button[data-ts]').evaluateAll((els) => els.map((e) => e.getAttribute('data-ts') ?? ''));
    expect(buttons.filter((ts) => tsOf.includes(ts))).toEqual([]);
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Deny…' }).count()).toBe(0);
    const shot = join(OUT, 'ended.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);
    await page.close();
  });
});
