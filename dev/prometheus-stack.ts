// Starts real Prometheus and Alertmanager (Debian packages) with generated configs on free
// ports: Prometheus scrapes the demo service and evaluates the demo alert rule, Alertmanager
// sends firing/resolved notifications to medic's webhook with the bearer token. Used by the
// tests and by the embedded demo when the binaries are installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './ports.js';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PrometheusStackOptions {
  /** host:port Prometheus scrapes (the demo service). */
  scrapeTarget: string;
  /** medic's Alertmanager webhook URL and the bearer token it expects. */
  webhookUrl: string;
  webhookToken: string;
  rules: AlertRule[];
  /** Fast loop for tests and the demo; production would use 15s/1m. */
  interval?: string;
  dir?: string;
}

export interface PrometheusStack {
  prometheusUrl: string;
  alertmanagerUrl: string;
  stop(): Promise<void>;
}

export const DEMO_RULES: AlertRule[] = [
  {
    alert: 'DemoServiceDown',
    expr: 'demo_up == 0',
    for: '2s',
    labels: { severity: 'critical', service: 'demo' },
    annotations: { summary: 'demo service health check failing (demo_up == 0)' },
  },
];

export function prometheusInstalled(): boolean {
  return ['prometheus', 'prometheus-alertmanager'].every((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0);
}

async function waitReady(url: string, child: ChildProcess, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} not ready at ${url} within ${timeoutMs}ms`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts prometheus-alertmanager on 127.0.0.1:`port` with `config` (an alertmanager.yml, written
 * 0600: it holds receivers' credentials) and its data in `dir`; resolves once it is ready. */
export async function startAlertmanager(dir: string, port: number, config: Record<string, unknown>): Promise<{ url: string; stop(): Promise<void> }> {
  await mkdir(join(dir, 'alertmanager-data'), { recursive: true });
  await writeFile(join(dir, 'alertmanager.yml'), stringify(config), { mode: 0o600 });
  const child = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(`${url}/-/ready`, child, 'alertmanager');
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { url, stop: () => stopProcess(child) };
}

export async function startPrometheusStack(o: PrometheusStackOptions): Promise<PrometheusStack> {
  if (!prometheusInstalled()) {
    throw new Error('prometheus / prometheus-alertmanager not installed: run "bash scripts/provision.sh" (Debian packages)');
  }
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'medic-prom-')));
  const interval = o.interval ?? '1s';
  const [promPort, amPort] = [await freePort(), await freePort()];
  await mkdir(join(dir, 'prometheus-data'), { recursive: true });

  await writeFile(join(dir, 'rules.yml'), stringify({ groups: [{ name: 'medic-demo', interval, rules: o.rules }] }));
  await writeFile(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      rule_files: [join(dir, 'rules.yml')],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      scrape_configs: [{ job_name: 'demo', static_configs: [{ targets: [o.scrapeTarget] }] }],
    }),
  );
  const alertmanager = await startAlertmanager(dir, amPort, {
    route: { receiver: 'medic', group_by: ['alertname', 'service'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
    receivers: [
      {
        name: 'medic',
        webhook_configs: [
          { url: o.webhookUrl, send_resolved: true, http_config: { authorization: { type: 'Bearer', credentials: o.webhookToken } } },
        ],
      },
    ],
  });
  const prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const prometheusUrl = `http://127.0.0.1:${promPort}`;
  const alertmanagerUrl = alertmanager.url;
  const stop = async (): Promise<void> => {
    await Promise.all([stopProcess(prometheus), alertmanager.stop()]);
    if (!o.dir) await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`${prometheusUrl}/-/ready`, prometheus, 'prometheus');
  } catch (err) {
    await stop();
    throw err;
  }
  return { prometheusUrl, alertmanagerUrl, stop };
}
