// The README's run command path, end to end: the embedded demo with --once breaks the demo
// service, the health watcher alerts medic through the real intake, and the incident resolves.
// (docker-compose.yml is validated in compose.test.ts.)
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';

const run = promisify(execFile);

describe('embedded demo', () => {
  it('npm start -- --once: outage drill → alert → action → verified → resolved, timeline printed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medic-demo-'));
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'dev/demo/main.ts'), '--once', '--dir', dir], {
        cwd: ROOT,
        timeout: 120_000,
      });
      expect(stdout).toContain('medic demo is running');
      expect(stdout).toMatch(/Temporal UI\s+http:\/\/127\.0\.0\.1:\d+/);
      expect(stdout).toContain('npx medic drill demo-outage');
      expect(stdout).toMatch(/Temporal UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/incident%3Ademo-service-down%3A[0-9a-f]{12}/);
      // Prometheus + Alertmanager are provisioned, so the demo detects through them
      expect(stdout).toMatch(/detection\s+Prometheus http:\/\/127\.0\.0\.1:\d+ \(rule DemoServiceDown/);
      for (const line of ['DemoServiceDown firing (critical) from alertmanager', 'lock on demo acquired', 'gates passed', 'restart demo service) finished', 'verified: healthy for 5s', 'resolved: healed by step 1/1']) {
        expect(stdout).toContain(line);
      }
      expect(stdout).toContain('--once: incident resolved');
      expect(stdout).toMatch(/^ {2}first incident healed \d+ s after start \(opened → healed in \d+ s\)$/m);
      // only medic's lines in the terminal: webpack's report and process warnings (the AWS SDK's
      // note about the Node version) go to the log file
      const log = await readFile(join(dir, 'medic.log'), 'utf8');
      for (const out of [stdout, stderr]) {
        expect(out).not.toMatch(/asset workflow-bundle|webpack|Workflow bundle created|Warning/);
      }
      expect(log).toContain('asset workflow-bundle');
      expect(log).toContain('Workflow bundle created');
      // a user's own Alertmanager: the intake URL in the banner, the token in a private file, and
      // a receiver for alertmanager.yml that Alertmanager's own checker accepts
      const webhook = /your alerts\s+Alertmanager webhook (http:\/\/127\.0\.0\.1:\d+\/webhooks\/alertmanager)/.exec(stdout)?.[1];
      expect(webhook).toBeDefined();
      expect(stdout).toContain(`Bearer <the token in ${join(dir, 'intake.token')}>`);
      expect((await stat(join(dir, 'intake.token'))).mode & 0o777).toBe(0o600);
      const receiver = await readFile(join(dir, 'alertmanager-receiver.yml'), 'utf8');
      expect(receiver).toContain(`url: ${webhook}`);
      expect(receiver).toContain(`credentials_file: ${join(dir, 'intake.token')}`);
      expect(receiver).not.toContain(await readFile(join(dir, 'intake.token'), 'utf8'));
      const amConfig = join(dir, 'alertmanager.yml');
      await writeFile(amConfig, `route:\n  receiver: medic-demo\n${receiver}`);
      const check = await run('amtool', ['check-config', amConfig]);
      expect(check.stdout).toContain('SUCCESS');
      // the CLI connection file is private to the user
      const cli = JSON.parse(await readFile(join(dir, 'cli.json'), 'utf8')) as { url: string; token: string };
      expect(cli.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // secrets (the demo service token) never reach the log file
      expect(log).not.toContain(cli.token);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
