// medic's configuration: environment variables, an optional YAML file (env wins), and an invalid
// configuration failing with every problem listed at once.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { TASK_QUEUE } from '../../workflows/contracts.js';

const INTAKE = 'intake-token-0123456789';
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const sha256 = (t: string): string => createHash('sha256').update(t).digest('hex');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medic-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function yamlFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Runs loadConfig and returns the ConfigError it must throw. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig from the environment', () => {
  it('applies defaults around the one required setting', () => {
    const c = loadConfig({ MEDIC_INTAKE_TOKEN: INTAKE });
    expect(c).toEqual({
      mode: 'production',
      logLevel: 'info',
      http: { host: '0.0.0.0', port: 8080, bodyLimitBytes: 1_048_576 },
      temporal: { address: 'localhost:7233', namespace: 'default', taskQueue: TASK_QUEUE, versioning: 'off', deploymentName: 'medic', uiUrl: 'http://localhost:8233', maxCachedWorkflows: 250, stickyTimeoutMs: 5000, maxConcurrentLocalActivities: 8 },
      intake: {
        alertmanagerToken: INTAKE,
        limits: {
          requestsPerSecond: 50,
          burst: 200,
          maxSources: 10_000,
          maxAlertsPerRequest: 1_000,
          maxLabelsPerAlert: 64,
          maxLabelNameBytes: 128,
          maxLabelBytes: 1_024,
          maxAnnotationBytes: 8_192,
          maxOpenIncidentsPerPlaybook: 25,
          maxFingerprintsPerIncident: 1_000,
        },
      },
      metrics: { listener: 'separate', host: '127.0.0.1', port: 9464 },
      operators: [],
      playbooks: ['playbooks'],
      playbookEnv: [],
      runbooks: ['runbooks'],
      detectors: [],
      secrets: {},
      slos: [],
      worker: {},
    });
  });

  it('playbookEnv: names playbooks may read besides MEDIC_PB_*, from MEDIC_PLAYBOOK_ENV; medic\'s own variables are refused', () => {
    expect(loadConfig({ MEDIC_INTAKE_TOKEN: INTAKE, MEDIC_PLAYBOOK_ENV: 'TRAFFIC_API_URL, PUBLIC_URL' }).playbookEnv).toEqual(['TRAFFIC_API_URL', 'PUBLIC_URL']);
    expect(() => loadConfig({ MEDIC_INTAKE_TOKEN: INTAKE, MEDIC_PLAYBOOK_ENV: 'MEDIC_SLACK_BOT_TOKEN' })).toThrow(
      "playbookEnv.0: medic's own settings and secrets (MEDIC_*) may not be exposed to playbooks",
    );
  });

  it('reads operators, secrets, numbers and lists', () => {
    const c = loadConfig({
      MEDIC_INTAKE_TOKEN: INTAKE,
      MEDIC_OPERATORS: `alice:${ALICE}:admin,bob:${BOB}`,
      MEDIC_SECRET_X: 'x-value',
      MEDIC_SECRET_DEMO_TOKEN: 'demo-value',
      MEDIC_HTTP_PORT: '9090',
      MEDIC_PLAYBOOKS: 'playbooks,/etc/medic/playbooks',
      MEDIC_MODE: 'demo',
      MEDIC_TEMPORAL_TASK_QUEUE: 'medic-test',
      UNRELATED: 'ignored',
    });
    // only the tokens' digests are kept
    expect(c.operators).toEqual([
      { user: 'alice', tokenSha256: sha256(ALICE), plaintext: true, scopes: ['read', 'operate', 'admin'], groups: [] },
      { user: 'bob', tokenSha256: sha256(BOB), plaintext: true, scopes: ['read', 'operate'], groups: [] },
    ]);
    expect(JSON.stringify(c)).not.toContain(ALICE);
    expect(c.secrets).toEqual({ X: 'x-value', DEMO_TOKEN: 'demo-value' });
    expect(c.http.port).toBe(9090);
    expect(c.playbooks).toEqual(['playbooks', '/etc/medic/playbooks']);
    expect(c.mode).toBe('demo');
    expect(c.temporal.taskQueue).toBe('medic-test');
  });

  it('tolerates spaces around operator entries', () => {
    const c = loadConfig({ MEDIC_INTAKE_TOKEN: INTAKE, MEDIC_OPERATORS: ` alice:${ALICE}:admin , bob:${BOB} ` });
    expect(c.operators.map((o) => o.user)).toEqual(['alice', 'bob']);
    expect(c.operators.map((o) => o.scopes.includes('admin'))).toEqual([true, false]);
  });
});

describe('loadConfig with a YAML file (MEDIC_CONFIG)', () => {
  it('reads the file and lets environment variables win, merging nested sections', async () => {
    const path = await yamlFile(
      'medic.yaml',
      [
        'mode: demo',
        'logLevel: debug',
        'http:',
        '  host: 127.0.0.1',
        '  port: 7000',
        'temporal:',
        '  address: temporal.internal:7233',
        '  namespace: ops',
        'intake:',
        `  alertmanagerToken: file-token-0123456789`,
        'operators:',
        `  - { user: carol, token: carol-token-0123456789, admin: true }`,
        'secrets:',
        '  FROM_FILE: file-secret',
        '  SHARED: from-file',
      ].join('\n'),
    );
    const c = loadConfig({
      MEDIC_CONFIG: path,
      MEDIC_HTTP_PORT: '9191',
      MEDIC_INTAKE_TOKEN: INTAKE,
      MEDIC_TEMPORAL_NAMESPACE: 'prod',
      MEDIC_SECRET_SHARED: 'from-env',
    });
    expect(c.mode).toBe('demo');
    expect(c.logLevel).toBe('debug');
    expect(c.http).toEqual({ host: '127.0.0.1', port: 9191, bodyLimitBytes: 1_048_576 });
    expect(c.temporal).toMatchObject({ address: 'temporal.internal:7233', namespace: 'prod' });
    expect(c.intake?.alertmanagerToken).toBe(INTAKE);
    expect(c.operators).toEqual([{ user: 'carol', tokenSha256: sha256('carol-token-0123456789'), plaintext: true, scopes: ['read', 'operate', 'admin'], groups: [] }]);
    expect(c.secrets).toEqual({ FROM_FILE: 'file-secret', SHARED: 'from-env' });
  });

  it('operators from the environment replace the file list', async () => {
    const path = await yamlFile(
      'ops.yaml',
      `intake: { alertmanagerToken: ${INTAKE} }\noperators:\n  - { user: carol, token: carol-token-0123456789 }\n`,
    );
    const c = loadConfig({ MEDIC_CONFIG: path, MEDIC_OPERATORS: `bob:${BOB}` });
    expect(c.operators).toEqual([{ user: 'bob', tokenSha256: sha256(BOB), plaintext: true, scopes: ['read', 'operate'], groups: [] }]);
  });

  it('an empty file is fine when the environment supplies the rest', async () => {
    const path = await yamlFile('empty.yaml', '');
    expect(loadConfig({ MEDIC_CONFIG: path, MEDIC_INTAKE_TOKEN: INTAKE }).intake?.alertmanagerToken).toBe(INTAKE);
  });

  it('a missing or unparsable file is a ConfigError naming the file', async () => {
    const missing = join(dir, 'nope.yaml');
    const e1 = configError({ MEDIC_CONFIG: missing, MEDIC_INTAKE_TOKEN: INTAKE });
    expect(e1.problems).toHaveLength(1);
    expect(e1.problems[0]).toContain(missing);
    const bad = await yamlFile('bad.yaml', 'http: [unclosed\n');
    const e2 = configError({ MEDIC_CONFIG: bad, MEDIC_INTAKE_TOKEN: INTAKE });
    expect(e2.problems[0]).toContain(bad);
  });
});

describe('an invalid configuration', () => {
  it('lists every problem, not just the first', () => {
    const e = configError({ MEDIC_INTAKE_TOKEN: 'short', MEDIC_HTTP_PORT: '70000', MEDIC_MODE: 'staging' });
    expect(e.problems).toHaveLength(3);
    expect(e.problems).toEqual(
      expect.arrayContaining([
        'intake.alertmanagerToken: tokens must be at least 16 characters',
        expect.stringMatching(/^http\.port: .*65535/),
        expect.stringMatching(/^mode: .*"production".*"demo"/),
      ]),
    );
    for (const p of e.problems) expect(e.message).toContain(`  - ${p}`);
    expect(e.message.startsWith('invalid medic configuration:')).toBe(true);
  });

  it('problems from the file and the environment are reported together', async () => {
    const path = await yamlFile('invalid.yaml', 'logLevel: loud\nhttp:\n  porrt: 80\n');
    const e = configError({ MEDIC_CONFIG: path, MEDIC_OPERATORS: 'eve:tiny' });
    expect(e.problems).toHaveLength(3);
    expect(e.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^logLevel: .*"debug"/),
        'http: Unrecognized key: "porrt"',
        'operators.0.token: tokens must be at least 16 characters',
      ]),
    );
  });
});
