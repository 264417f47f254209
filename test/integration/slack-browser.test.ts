// The stand-in's web page in headless Chromium (Debian `chromium` + playwright-core): a user
// opens the local "Slack", clicks Approve on a pending step, and sees the incident resolve.
// The resolved thread is the README's screenshot (docs/img/demo-thread.png): written when missing,
// or refreshed with MEDIC_UPDATE_SCREENSHOTS=1 (it shows times, so not on every run).
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useSlackMedicInBrowser } from '../support/browser.js';
import { demoPlaybook } from '../support/fixtures.js';
import { U, waitUntil } from '../support/slack.js';

const OUT = fileURLToPath(new URL('../../test-results/slack-browser/', import.meta.url));
const README_SHOT = fileURLToPath(new URL('../../docs/img/demo-thread.png', import.meta.url));

const ui = useSlackMedicInBrowser(OUT);

describe('the local Slack page in a browser', () => {
  it('shows the incident thread; clicking Approve runs the step and the root message turns Resolved', async () => {
    ui.m.demo.state.fault = 'outage';
    const id = await ui.m.start(
      demoPlaybook(ui.m.demo.url, {
        name: 'browser-approval',
        steps: [
          {
            name: 'restart',
            action: 'http',
            params: { method: 'POST', url: `${ui.m.demo.url}/remediate`, expectStatus: [200] },
            risk: 'high',
            requiresApproval: true,
            approvers: [U.alice],
            verification: { http: { url: `${ui.m.demo.url}/healthz` }, window: '1s', interval: '250ms', deadline: '20s' },
          },
        ],
      }),
    );
    await waitUntil('approval message', () => ui.m.approvalMessage(id));
    const page = await ui.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${ui.m.slack.url}/?user=${U.alice}`);
    await page.getByText('Approval needed').first().waitFor();
    await page.getByText('Awaiting approval').first().waitFor();
    await page.screenshot({ path: join(OUT, 'pending.png'), fullPage: true });

    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(/Approved by @alice at \d\d:\d\d UTC/).waitFor({ timeout: 20_000 });
    await page.getByText('Resolved', { exact: false }).first().waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect((await ui.m.status(id)).status).toBe('resolved');
    await page.getByText('healed by step 1/1', { exact: false }).first().waitFor({ timeout: 20_000 });
    if (process.env.MEDIC_UPDATE_SCREENSHOTS === '1' || !existsSync(README_SHOT)) {
      await mkdir(dirname(README_SHOT), { recursive: true });
      await page.screenshot({ path: README_SHOT });
    }
    const png = await readFile(README_SHOT);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 900]); // the viewport, as the README shows it

    await page.locator('#cmd').fill('/medic status');
    await page.locator('#cmd').press('Enter');
    await page.getByText('Only visible to you').first().waitFor();
    await page.getByText('Automation is running').first().waitFor();
    const shot = join(OUT, 'approved.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);
    await page.close();
  });
});
