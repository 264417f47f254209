// docker-compose.yml and the configs it mounts, validated offline with the real tools (no Docker
// engine here): Debian's docker-compose 1.29 (`config`), promtool and amtool. The stack is
// Temporal on PostgreSQL + UI (the same configuration as the tests' production engine and the
// Helm values for Temporal's chart), Prometheus, Alertmanager, medic worker and medic app, each a
// service with a health check, and no secret value in the file.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../support/paths.js';
import { temporalServerParts, TEMPORAL_DATABASES } from '../../dev/temporal-server.js';
import { dynamicConfigYaml } from '../../dev/temporal-dynamic-config.js';

const run = promisify(execFile);
const COMPOSE = join(ROOT, 'docker-compose.yml');
const SECRETS = { MEDIC_INTAKE_TOKEN: 'intake-token-'.padEnd(32, 'x'), MEDIC_IDENTITY_KEY: 'identity-key-'.padEnd(40, 'x'), MEDIC_POSTGRES_PASSWORD: 'pg-password-0123456789' };

type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  /** docker-compose 1.29 prints "ip:published:target/proto" when a host IP is set, else an object. */
  ports?: Array<string | { host_ip?: string; published: number; target: number }>;
};

/** Host address, published and container port of each published port. */
const bindings = (s: Service): { hostIp: string; published: number; target: number }[] =>
  (s.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { hostIp: p.host_ip ?? '0.0.0.0', published: p.published, target: p.target };
    const m = /^(?:(.*):)?(\d+):(\d+)(?:\/\w+)?$/.exec(p);
    if (!m) throw new Error(`unrecognised port ${p}`);
    return { hostIp: m[1] ?? '0.0.0.0', published: Number(m[2]), target: Number(m[3]) };
  });

async function config(env: Record<string, string | undefined>): Promise<{ services: Record<string, Service>; volumes: Record<string, unknown> }> {
  const { stdout } = await run('docker-compose', ['-f', COMPOSE, 'config'], { env: { ...process.env, ...env } });
  return parse(stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
}

describe('docker-compose.yml', () => {
  it('validates with docker-compose config: every part a service of its own, each with a health check', async () => {
    const { services, volumes } = await config(SECRETS);
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'medic', 'medic-worker', 'postgresql', 'prometheus', 'temporal', 'temporal-setup', 'temporal-ui']);
    for (const [name, s] of Object.entries(services)) {
      // temporal-setup is a one-shot job; the UI image's tools are not known here, and the UI is
      // not on anyone's start-up path
      if (name === 'temporal-setup' || name === 'temporal-ui') continue;
      expect(s.healthcheck?.test.length ?? 0, `${name} has a healthcheck`).toBeGreaterThan(1);
    }
    expect(Object.keys(volumes).sort()).toEqual(['postgres-data', 'prometheus-data']);
  });

  it('Temporal persists to PostgreSQL, registers medic search attributes, and the UI points at it', async () => {
    const { services } = await config(SECRETS);
    const temporal = services.temporal!;
    expect(temporal.image).toMatch(/^temporalio\/auto-setup:1\.\d+\.\d+$/);
    expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql', POSTGRES_PWD: SECRETS.MEDIC_POSTGRES_PASSWORD });
    expect(temporal.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    const setup = services['temporal-setup']!.command!.join(' ');
    for (const sa of ['MedicService', 'MedicSeverity', 'MedicStatus']) expect(setup).toContain(`--name ${sa} --type Keyword`);
    expect(services['temporal-ui']!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
  });

  it('Temporal is the production engine the tests run: the same server version, postgres12, shard count and dynamic config as dev/temporal-server.ts and the Helm values', async () => {
    const { services } = await config(SECRETS);
    const temporal = services.temporal as Service & { volumes?: string[] };
    // the server the tests run (scripts/provision-temporal-server.sh) is the compose image's version
    const { stdout } = await run(temporalServerParts(ROOT).server, ['--version']);
    const version = /(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
    expect(temporal.image).toBe(`temporalio/auto-setup:${version}`);
    expect(temporal.environment).toMatchObject({ DB: 'postgres12', DBNAME: TEMPORAL_DATABASES.default, VISIBILITY_DBNAME: TEMPORAL_DATABASES.visibility });
    // its dynamic config file is medic's (dev/temporal-dynamic-config.ts), mounted where the image reads it
    const mount = temporal.volumes!.find((v) => v.endsWith(':ro') && v.includes('dynamicconfig'))!;
    const [host, inContainer] = mount.split(':');
    expect(inContainer).toBe(`/etc/temporal/${temporal.environment!.DYNAMIC_CONFIG_FILE_PATH}`);
    const expected = parse(dynamicConfigYaml()) as unknown;
    expect(parse(await readFile(host!, 'utf8'))).toEqual(expected);
    // the values for Temporal's Helm chart say the same
    const helm = parse(await readFile(join(ROOT, 'deploy/helm/temporal-values.yaml'), 'utf8')) as {
      server: { image: { tag: string }; config: { numHistoryShards: number; persistence: Record<'default' | 'visibility', { driver: string; sql: { driver: string; database: string } }> }; dynamicConfig: unknown };
    };
    expect(helm.server.image.tag).toBe(version);
    expect(String(helm.server.config.numHistoryShards)).toBe(temporal.environment!.NUM_HISTORY_SHARDS);
    expect(helm.server.config.persistence.default).toMatchObject({ driver: 'sql', sql: { driver: 'postgres12', database: TEMPORAL_DATABASES.default } });
    expect(helm.server.config.persistence.visibility).toMatchObject({ driver: 'sql', sql: { driver: 'postgres12', database: TEMPORAL_DATABASES.visibility } });
    expect(helm.server.dynamicConfig).toEqual(expected);
  });

  it('medic worker and app run from the one image, start after the search attributes exist, and probe their health endpoints', async () => {
    const { services } = await config(SECRETS);
    const worker = services['medic-worker']!;
    const app = services.medic!;
    expect(worker.image).toBe('medic:local');
    expect(app.image).toBe('medic:local');
    expect(worker.command).toEqual(['node', '--import', 'tsx', 'src/worker.ts']);
    expect(app.command).toEqual(['node', '--import', 'tsx', 'src/server/main.ts']);
    for (const s of [worker, app]) {
      expect(s.depends_on?.['temporal-setup']).toEqual({ condition: 'service_completed_successfully' });
      expect(s.environment).toMatchObject({ MEDIC_TEMPORAL_ADDRESS: 'temporal:7233', MEDIC_PROMETHEUS_URL: 'http://prometheus:9090' });
      expect(s.environment!.MEDIC_STORE_URL).toBe(`postgres://medic:${SECRETS.MEDIC_POSTGRES_PASSWORD}@postgresql:5432/medic`);
      expect(s.healthcheck!.test).toEqual(['CMD', 'node', 'bin/healthcheck.js', '/readyz']);
    }
    // the worker's health server is on, the app's probe uses its HTTP port
    expect(worker.environment!.MEDIC_WORKER_HEALTH_PORT).toBe('8081');
    expect(app.environment!.MEDIC_WORKER_HEALTH_PORT).toBeUndefined();
    expect(bindings(app)).toEqual([{ hostIp: '127.0.0.1', published: 8080, target: 8080 }]);
    // app and worker load the same playbooks and runbooks, read-only (the worker runs only playbooks it loaded)
    for (const s of [app, worker]) expect((s as { volumes?: string[] }).volumes).toEqual([`${ROOT}playbooks:/app/playbooks:ro`, `${ROOT}runbooks:/app/runbooks:ro`]);
  });

  it('publishes no port on all interfaces: every port binds to 127.0.0.1 unless deliberately exposed', async () => {
    const { services } = await config(SECRETS);
    const published = Object.entries(services).flatMap(([name, s]) => bindings(s).map((b) => ({ name, ...b })));
    // Temporal's frontend and UI, Prometheus, Alertmanager and the app: all there, all on loopback
    expect(published.map((p) => `${p.name}:${p.published}`).sort()).toEqual(['alertmanager:9093', 'medic:8080', 'prometheus:9090', 'temporal-ui:8233', 'temporal:7233']);
    for (const p of published) expect(p.hostIp, `${p.name} publishes ${p.published}`).toBe('127.0.0.1');
    // Exposing the app (webhooks from other hosts) is a deliberate setting, and only the app moves.
    const exposed = await config({ ...SECRETS, MEDIC_APP_BIND: '0.0.0.0' });
    const moved = Object.entries(exposed.services).flatMap(([name, s]) => bindings(s).filter((b) => b.hostIp !== '127.0.0.1').map(() => name));
    expect(moved).toEqual(['medic']);
  });

  it('holds no secret value: secrets come from the environment (.env), and it refuses to validate without them', async () => {
    const text = await readFile(COMPOSE, 'utf8');
    // every secret-named key takes its value from the environment
    const secretKeys = [...text.matchAll(/^\s*([A-Z_]*(?:PASSWORD|PWD|TOKEN)):\s*(.*)$/gm)];
    expect(secretKeys.length).toBeGreaterThanOrEqual(4);
    for (const [, key, value] of secretKeys) expect(value, key).toMatch(/^\$\{MEDIC_[A-Z_]+:\?set MEDIC_[A-Z_]+\}$/);
    for (const missing of ['MEDIC_INTAKE_TOKEN', 'MEDIC_IDENTITY_KEY', 'MEDIC_POSTGRES_PASSWORD']) {
      const env: Record<string, string | undefined> = { ...process.env, ...SECRETS };
      delete env[missing];
      await expect(run('docker-compose', ['-f', COMPOSE, 'config', '-q'], { env })).rejects.toThrow(new RegExp(`set ${missing}`));
    }
    const example = await readFile(join(ROOT, 'deploy/compose/env.example'), 'utf8');
    for (const name of Object.keys(SECRETS)) expect(example).toMatch(new RegExp(`^${name}=$`, 'm'));
  });

  it('the Prometheus and Alertmanager configs it mounts pass promtool and amtool', async () => {
    const { services } = await config(SECRETS);
    const mounts = [services.prometheus, services.alertmanager].flatMap((s) => (s as { volumes?: string[] }).volumes ?? []);
    const files = mounts.map((m) => String(m).split(':')[0]!).filter((p) => p.startsWith('/'));
    expect(files.length).toBe(3);
    for (const f of files) expect(existsSync(f), f).toBe(true);
    const prom = await run('promtool', ['check', 'config', join(ROOT, 'deploy/compose/prometheus/prometheus.yml')]);
    expect(prom.stdout + prom.stderr).toContain('SUCCESS: 2 rules found');
    const am = await run('amtool', ['check-config', join(ROOT, 'deploy/compose/alertmanager/alertmanager.yml')]);
    expect(am.stdout).toContain('SUCCESS');
    // Alertmanager hands alerts to medic's real webhook path with bearer credentials
    const amConfig = parse(await readFile(join(ROOT, 'deploy/compose/alertmanager/alertmanager.yml'), 'utf8')) as {
      receivers: Array<{ name: string; webhook_configs?: Array<{ url: string; send_resolved: boolean; http_config: { authorization: { credentials_file: string } } }> }>;
    };
    const hook = amConfig.receivers.find((r) => r.name === 'medic')!.webhook_configs![0]!;
    expect(hook.url).toBe('http://medic:8080/webhooks/alertmanager');
    expect(hook.send_resolved).toBe(true);
    expect(services.alertmanager!.command!.join(' ')).toContain(hook.http_config.authorization.credentials_file);
  });
});
