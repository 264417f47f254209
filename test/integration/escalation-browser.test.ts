// The escalation ladder on the stand-in's web page in headless Chromium: the take request shows
// the @oncall mention and a Take it button; bob (a member) clicks it on the page, the incident is
// his and the ladder message says so.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useSlackMedicInBrowser } from '../support/browser.js';
import { demoPlaybook } from '../support/fixtures.js';
import { U, waitUntil } from '../support/slack.js';

const OUT = fileURLToPath(new URL('../../test-results/escalation-browser/', import.meta.url));

const ui = useSlackMedicInBrowser(OUT);

describe('the escalation ladder on the local Slack page', () => {
  it('shows the group mention and the ladder; Take it clicked in the browser makes the incident bob’s', async () => {
    const id = await ui.m.start(
      demoPlaybook(ui.m.demo.url, {
        name: 'browser-ladder',
        holdAfterEscalation: '10m',
        steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${ui.m.demo.url}/remediate`, expectStatus: [200] }, dryRun: true }],
        escalation: [{ kind: 'slack-group', group: '@oncall', wait: '5m' }, { kind: 'record', to: 'incident commander' }],
      }),
    );
    await waitUntil('take request', () => ui.m.threadOf(id).find((x) => JSON.stringify(x.blocks ?? []).includes('take_incident')));
    const page = await ui.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${ui.m.slack.url}/?user=${U.bob}`);
    await page.getByText('@oncall — can someone take this incident?').first().waitFor();
    await page.getByText('Escalation ladder').first().waitFor();
    await page.getByText(/⏳ 1\. ask @oncall to take it \(waits 5m\) — waiting until \d\d:\d\d UTC/).first().waitFor();
    await page.screenshot({ path: join(OUT, 'waiting.png'), fullPage: true });

    await page.getByRole('button', { name: 'Take it' }).click();
    await page.getByText(/🙋 Taken by @bob at \d\d:\d\d UTC/).first().waitFor({ timeout: 20_000 });
    await page.getByText(/➖ 2\. hand over to incident commander/).first().waitFor({ timeout: 20_000 });
    expect(await page.getByRole('button', { name: 'Take it' }).count()).toBe(0);
    expect(await ui.m.status(id)).toMatchObject({ status: 'acknowledged', owner: { by: U.bob } });
    const shot = join(OUT, 'taken.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);
    await page.close();
    await ui.m.env.client.workflow.getHandle(id).terminate('test done');
  });
});
