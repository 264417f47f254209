// npm run bench:flood — a real medic (Temporal dev server, src/worker.ts and src/server/main.ts as
// child processes, production intake limits) receiving FLOOD_RATE (100) distinct alert groups per
// second for FLOOD_SECONDS (60) from one source, while a prober measures the operator API
// (GET /api/incidents) against a baseline taken in the same run with no flood. Prints both
// latencies and their ratio, the alerts accepted / refused with 429 / overflowed, the incidents
// opened, and the worker's and server's RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { alertmanagerPayload } from '../dev/health-watcher.js';
import { freePort } from '../dev/ports.js';
import type { IngestResult } from '../src/intake/ingest.js';
import { DEFAULT_INTAKE_LIMITS } from '../src/intake/limits.js';
import { overflowWorkflowId } from '../src/intake/open-incidents.js';
import { WORKFLOWS_PATH } from '../src/temporal/worker.js';
import { envNumber } from './lib/env.js';
import { startBenchTemporal } from './lib/temporal.js';
import { peakRss, rssOf, runBench, sleep } from './lib/process.js';
import { statusQuery } from '../workflows/contracts.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RATE = envNumber('FLOOD_RATE', 100); // distinct alert groups per second
const SECONDS = envNumber('FLOOD_SECONDS', 60);
const BASELINE_SECONDS = envNumber('FLOOD_BASELINE_SECONDS', 20);
const PROBE_EVERY_MS = 100;
const INTAKE = 'flood-intake-token-0123456789';
const OPERATOR = 'flood-operator-token-0123456789';
const taskQueue = 'bench-flood';
const MiB = 1024 ** 2;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};

/** GET /api/incidents once every PROBE_EVERY_MS until `until` says stop; returns the latencies. */
async function probe(url: string, stop: () => boolean): Promise<number[]> {
  const out: number[] = [];
  while (!stop()) {
    const t0 = performance.now();
    const res = await fetch(`${url}/api/incidents`, { headers: { authorization: `Bearer ${OPERATOR}` } });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`operator API answered ${res.status}`);
    out.push(ms);
    await sleep(Math.max(0, PROBE_EVERY_MS - ms));
  }
  return out;
}

function child(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  console.log('flood: starting a Temporal dev server (in memory), bundling workflows…');
  const { temporal, connection, client, dir, bundlePath } = await startBenchTemporal(ROOT, 'flood', WORKFLOWS_PATH);
  // Incidents hold at an approval nobody gives: they stay open, and nothing acts.
  await writeFile(
    join(dir, 'flood.yaml'),
    JSON.stringify({
      name: 'flood',
      match: { alertname: 'FloodAlert' },
      groupBy: ['alertname', 'service'],
      target: '{{labels.service}}',
      steps: [{ name: 'guarded', action: 'http', params: { method: 'POST', url: 'http://127.0.0.1:9/none' }, requiresApproval: true, approvers: ['nobody'] }],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The server and the worker share the identity key (signed Updates), as in production.
  const common = { MEDIC_TEMPORAL_ADDRESS: temporal.address, MEDIC_TEMPORAL_TASK_QUEUE: taskQueue, MEDIC_LOG_LEVEL: 'error', MEDIC_IDENTITY_KEY: 'flood-bench-identity-key-0123456789abcdef', MEDIC_PLAYBOOKS: join(dir, 'flood.yaml') };
  const worker = child('src/worker.ts', { ...common, MEDIC_WORKFLOW_BUNDLE: bundlePath });
  const server = child('src/server/main.ts', {
    ...common,
    MEDIC_HTTP_HOST: '127.0.0.1',
    MEDIC_HTTP_PORT: String(port),
    MEDIC_INTAKE_TOKEN: INTAKE,
    MEDIC_OPERATORS: `alice:${OPERATOR}`,
  });
  const rss = peakRss({ worker: worker.pid!, server: server.pid! });
  const peak = rss.peak;
  try {
    for (let i = 0; ; i++) {
      const r = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
      const workerUp = (r.pollers ?? []).some((p) => p.identity === `${worker.pid}@${hostname()}`);
      const serverUp = await fetch(`${url}/readyz`).then((res) => res.ok, () => false);
      if (workerUp && serverUp) break;
      if (worker.exitCode !== null || server.exitCode !== null || i > 600) throw new Error('the worker or the server did not start');
      await sleep(100);
    }
    await sleep(2_000);
    const idle = { worker: await rssOf(worker.pid!), server: await rssOf(server.pid!) };

    console.log(`flood: baseline — probing GET /api/incidents for ${BASELINE_SECONDS} s with no flood…`);
    const baseEnd = Date.now() + BASELINE_SECONDS * 1000;
    const baseline = await probe(url, () => Date.now() >= baseEnd);

    console.log(`flood: ${RATE} distinct alert groups/s for ${SECONDS} s from one source, probing meanwhile…`);
    const statuses = new Map<number, number>();
    const totals = { accepted: 0, delivered: 0, overflowed: 0 };
    const opened = new Set<string>();
    const intake: number[] = [];
    let sent = 0;
    const inFlight = new Set<Promise<void>>();
    const send = async (i: number): Promise<void> => {
      const t0 = performance.now();
      const res = await fetch(`${url}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${INTAKE}` },
        body: JSON.stringify(alertmanagerPayload('firing', { alertname: 'FloodAlert', service: `svc-${i}`, severity: 'critical' }, new Date().toISOString())),
      });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status !== 202) return;
      intake.push(performance.now() - t0);
      const r = JSON.parse(text) as IngestResult;
      totals.accepted += 1;
      for (const inc of r.incidents) {
        totals.delivered += inc.alerts;
        opened.add(inc.workflowId);
      }
      for (const o of r.overflowed) totals.overflowed += o.alerts;
    };
    let flooding = true;
    const during = probe(url, () => !flooding);
    const start = performance.now();
    while (sent < RATE * SECONDS) {
      const due = Math.floor(((performance.now() - start) / 1000) * RATE);
      while (sent < Math.min(due, RATE * SECONDS)) {
        const p: Promise<void> = send(sent++).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await sleep(10);
    }
    await Promise.all(inFlight);
    const floodSeconds = (performance.now() - start) / 1000;
    flooding = false;
    const underFlood = await during;

    // Every accepted alert is accounted for: in its own incident or recorded by the overflow one.
    const overflowId = overflowWorkflowId('flood');
    let recorded = 0;
    for (let i = 0; i < 120 && recorded < totals.overflowed; i++) {
      recorded = await client.workflow.getHandle(overflowId).query(statusQuery).then((s) => s.alertsReceived, () => 0);
      if (recorded < totals.overflowed) await sleep(1_000);
    }
    const { count: running } = await client.workflow.count(
      `WorkflowType = 'incidentWorkflow' AND TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH 'incident:flood:' AND WorkflowId != '${overflowId}'`,
    );

    const row = (name: string, xs: number[]): string =>
      `${name.padEnd(28)} p50 ${pct(xs, 50).toFixed(1).padStart(7)} ms   p99 ${pct(xs, 99).toFixed(1).padStart(7)} ms   (${xs.length} probes)`;
    const fmt = (b: number): string => `${(b / MiB).toFixed(0)} MiB`;
    const cap = DEFAULT_INTAKE_LIMITS.maxOpenIncidentsPerPlaybook;
    console.log('');
    console.log(`flood                        ${sent} distinct alert groups in ${floodSeconds.toFixed(1)} s (${(sent / floodSeconds).toFixed(0)}/s), one alert per request, one source; default intake limits (${DEFAULT_INTAKE_LIMITS.requestsPerSecond} req/s, burst ${DEFAULT_INTAKE_LIMITS.burst}, ${cap} open incidents per playbook)`);
    console.log(`responses                    ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s} × ${n}`).join(', ')}`);
    console.log(`alerts                       accepted ${totals.accepted}; refused with 429 ${statuses.get(429) ?? 0}; delivered to incidents ${totals.delivered}; overflowed ${totals.overflowed} (recorded by ${overflowId}: ${recorded})`);
    console.log(`incidents opened             ${opened.size} (running now: ${running}; cap ${cap}) + 1 overflow incident`);
    console.log(`intake latency (202s)        p50 ${pct(intake, 50).toFixed(1)} ms   p99 ${pct(intake, 99).toFixed(1)} ms`);
    console.log(row('operator API, baseline', baseline));
    console.log(row('operator API, under flood', underFlood));
    console.log(`ratio                        p50 ${(pct(underFlood, 50) / pct(baseline, 50)).toFixed(2)}x   p99 ${(pct(underFlood, 99) / pct(baseline, 99)).toFixed(2)}x`);
    console.log(`worker RSS                   idle ${fmt(idle.worker)}, peak ${fmt(peak.worker)}   (server: idle ${fmt(idle.server)}, peak ${fmt(peak.server)})`);
    if (running > cap || recorded < totals.overflowed) throw new Error('over the cap, or overflowed alerts not all recorded');
  } finally {
    await rss.stop();
    server.kill('SIGTERM');
    worker.kill('SIGTERM');
    await connection.close();
    await temporal.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

runBench(main);
