// `medic simulate` (the CLI, as its own process) with a `flag` step against a real Unleash 8:
// the flag activity runs in dry run, reading the flag's state with the token from
// MEDIC_SECRET_<name>, so the output says it would turn the flag off — and the flag stays on, with
// no new event in Unleash's log. Without the token the dry run is skipped, saying why.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaybookSchema } from '../../src/playbooks/schema.js';
import { runMedicCli } from '../support/cli.js';
import { firingAlert } from '../support/fixtures.js';
import { startUnleash, type Unleash } from '../support/unleash.js';

const FEATURE = 'new-checkout';
let unleash: Unleash;
let playbooks: string;
let alerts: string;

beforeAll(async () => {
  unleash = await startUnleash();
  await unleash.createFeature(FEATURE);
  await unleash.admin('POST', `/api/admin/projects/default/features/${FEATURE}/environments/production/on`);
  const dir = await mkdtemp(join(tmpdir(), 'medic-sim-flag-'));
  playbooks = join(dir, 'playbooks');
  await mkdir(playbooks);
  const pb = PlaybookSchema.parse({
    name: 'kill-switch',
    match: { alertname: 'FeatureErrorRateHigh' },
    groupBy: ['alertname', 'feature', 'env'],
    target: 'flag/{{labels.env}}/{{labels.feature}}',
    steps: [
      {
        name: 'turn-flag-off',
        action: 'flag',
        timeout: '10s',
        retries: 0,
        params: { provider: 'unleash', url: unleash.url, project: 'default', environment: '{{labels.env}}', feature: '{{labels.feature}}', enabled: false, tokenSecret: 'UNLEASH_ADMIN_TOKEN' },
      },
    ],
  });
  await writeFile(join(playbooks, 'kill-switch.yaml'), JSON.stringify(pb));
  alerts = join(dir, 'recorded.jsonl');
  await writeFile(alerts, `${JSON.stringify(firingAlert({ alertname: 'FeatureErrorRateHigh', feature: FEATURE, env: 'production' }))}\n`);
}, 180_000);
afterAll(() => unleash?.stop());

const cleanEnv = { MEDIC_CONFIG: undefined, MEDIC_KUBECONFIG: undefined, MEDIC_SECRET_UNLEASH_ADMIN_TOKEN: undefined };

describe('medic simulate with a flag step (real Unleash)', () => {
  it('says it would turn the flag off; the flag stays on and Unleash logs no change', async () => {
    expect(await unleash.enabledIn(FEATURE, 'production')).toBe(true);
    const eventsBefore = (await unleash.events(FEATURE)).length;
    const r = await runMedicCli(['simulate', '--playbooks', playbooks, '--alerts', alerts], { ...cleanEnv, MEDIC_SECRET_UNLEASH_ADMIN_TOKEN: unleash.adminToken });
    expect(r.code).toBe(0);
    expect(r.out).toContain(`step 1 (turn-flag-off) try 1: Unleash flag ${FEATURE} → off in production (project default)`);
    expect(r.out).toContain(`→ dry run: would turn flag ${FEATURE} in production (project default) on → off`);
    // The token never reaches the output.
    expect(r.out + r.err).not.toContain(unleash.adminToken);
    expect(await unleash.enabledIn(FEATURE, 'production')).toBe(true);
    expect((await unleash.events(FEATURE)).length).toBe(eventsBefore);
  }, 120_000);

  it('without the token: the dry run is skipped, naming the missing secret', async () => {
    const r = await runMedicCli(['simulate', '--playbooks', playbooks, '--alerts', alerts], cleanEnv);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      `→ dry run: would Unleash flag ${FEATURE} → off in production (project default) (the target's dry run was skipped: secret UNLEASH_ADMIN_TOKEN is not configured (set MEDIC_SECRET_UNLEASH_ADMIN_TOKEN))`,
    );
    expect(await unleash.enabledIn(FEATURE, 'production')).toBe(true);
  }, 120_000);
});
