// `medic report` (a separate process) on real SQLite incident stores: one filled by real incidents
// on a Temporal dev server through the store sink, one by the store's own write API with known
// timings in this period and the previous one. Asserts on the printed numbers.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createStoreSink } from '../../activities/store.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { openIncidentStore, ttdSecondsOf, type IncidentStore } from '../../src/store/store.js';
import { statusQuery, type IncidentStatus, type PublishInput } from '../../workflows/contracts.js';
import { runMedicCli, type CliResult } from '../support/cli.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { publishInput, STORE_BACKENDS } from '../support/stores.js';
import { devServerEnv, medicWorker, uniqueQueue } from '../support/temporal.js';

const dir = mkdtempSync(join(tmpdir(), 'medic-report-'));

async function report(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return reportWith({}, ...args);
}
async function reportWith(env: Record<string, string | undefined>, ...args: string[]): Promise<CliResult> {
  return runMedicCli(['report', ...args], { MEDIC_STORE_PATH: undefined, MEDIC_STORE_URL: undefined, MEDIC_CONFIG: '', ...env });
}
const line = (out: string, name: string): string => out.split('\n').find((l) => l.trimStart().startsWith(name))?.trim() ?? `(no ${name})`;
const printed: Record<string, string> = {};

describe('medic report from real incidents', () => {
  let env: TestWorkflowEnvironment;
  let demo: DemoService;
  let db: IncidentStore;
  let worker: Awaited<ReturnType<typeof medicWorker>>;
  let running: Promise<void>;
  const taskQueue = uniqueQueue('report');
  const playbooks: Playbook[] = [];
  const path = join(dir, 'real.db');

  beforeAll(async () => {
    [env, demo] = await Promise.all([devServerEnv(), startDemoService()]);
    db = await openIncidentStore({ path });
    worker = await medicWorker(env, taskQueue, {}, [createStoreSink(db)]);
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await db?.close();
    await demo?.close();
    await env?.teardown();
  });

  it('counts healed and noisy incidents, TTD from startsAt, and suggests a threshold for the noisy rule', async () => {
    const restart = {
      name: 'restart',
      action: 'http' as const,
      params: { method: 'POST' as const, url: `${demo.url}/remediate`, expectStatus: [200] },
      retries: 0,
      verification: { http: { url: `${demo.url}/healthz` }, window: '1s', interval: '250ms', deadline: '5s' },
    };
    playbooks.push(demoPlaybook(demo.url, { name: 'report-heal', match: { alertname: 'ReportHeal' }, steps: [restart] }));
    playbooks.push(
      demoPlaybook(demo.url, { name: 'report-noise', match: { alertname: 'ReportNoise' }, steps: [{ ...restart, requiresApproval: true, approvers: ['bob'] }] }),
    );
    const deps = { client: env.client, taskQueue, playbooks: () => playbooks, log: silentLog };
    const send = async (alertname: string, service: string, status: 'firing' | 'resolved' = 'firing', startedSecondsAgo = 30) => {
      const a = { ...firingAlert({ alertname, service }, status), startsAt: new Date(Date.now() - startedSecondsAgo * 1000).toISOString() };
      return (await ingestAlerts(deps, [a])).incidents[0]!.workflowId;
    };
    demo.state.fault = 'outage';
    const healed = await env.client.workflow.getHandle(await send('ReportHeal', 'h1')).result() as IncidentStatus;
    expect(healed.status).toBe('resolved');
    for (const svc of ['n1', 'n2']) {
      const id = await send('ReportNoise', svc);
      for (let i = 0; (await env.client.workflow.getHandle(id).query(statusQuery)).status !== 'awaiting_approval'; i++) {
        if (i > 200) throw new Error('no approval request');
        await new Promise((r) => setTimeout(r, 100));
      }
      await send('ReportNoise', svc, 'resolved');
      expect(((await env.client.workflow.getHandle(id).result()) as IncidentStatus).outcome).toBe('alert resolved before medic acted');
    }
    demo.state.fault = 'none';

    const r = await report('--store', path, '--since', '1h');
    printed.real = r.out;
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(line(r.out, 'incidents')).toMatch(/^incidents\s+3\s+0\s+\+3$/);
    expect(line(r.out, 'auto-resolved')).toMatch(/^auto-resolved\s+1 \(33\.3%\)\s+0 \(0\.0%\)\s+\+1$/);
    expect(line(r.out, 'escalated')).toMatch(/^escalated\s+0 \(0\.0%\)/);
    expect(line(r.out, 'false positives')).toMatch(/^false positives \(noise\)\s+2 \(66\.7%\)\s+0 \(0\.0%\)\s+\+2$/);
    const mttr = Math.round((healed.endedAt! - healed.startedAt) / 1000);
    expect(line(r.out, 'MTTR')).toMatch(new RegExp(`^MTTR p50 / mean\\s+${mttr}s / ${mttr}s \\(n=1\\)\\s+—$`));
    // Alertmanager alerts that started 30s before medic received them
    expect(line(r.out, 'TTD')).toMatch(/^TTD p50 \/ mean\s+30s \/ 30s \(n=3\)\s+—$/);
    expect(line(r.out, 'ReportNoise')).toMatch(/^ReportNoise\s+2 of 2 \(100%\)$/);
    expect(line(r.out, 'ReportHeal')).toMatch(/^ReportHeal\s+0 of 1 \(0%\)$/);
    expect(r.out).toContain(
      'ReportNoise: 2 of 2 incidents resolved by themselves before any action — consider a longer `for:` or a higher threshold',
    );
  });
});

describe.each(STORE_BACKENDS)('medic report against the previous period ($name)', (backend) => {
  let where = '';
  let envVar: Record<string, string | undefined> = {};
  let closeBackend: () => Promise<void>;
  const DAY = 86_400_000;
  const now = Date.now();
  let n = 0;
  /** One incident through the store's own write API: opening entry, then its end. */
  function incident(o: { alertname: string; daysAgo: number; outcome: 'auto' | 'noise' | 'escalated' | 'late'; minutes?: number; ttd?: number }): PublishInput[] {
    const id = `incident:report:${String(++n).padStart(12, '0')}:abcdef01`;
    const startedAt = now - o.daysAgo * DAY;
    const endedAt = startedAt + (o.minutes ?? 1) * 60_000;
    const escalationSent = o.outcome === 'escalated' || o.outcome === 'late';
    const base = { incidentId: id, playbook: 'report', service: 'svc', alertname: o.alertname, target: `t${n}`, startedAt, acted: o.outcome !== 'noise', escalationSent };
    const status = o.outcome === 'escalated' ? 'escalated' : 'resolved';
    const outcome = { auto: 'healed by step 1/1 (restart)', noise: 'alert resolved before medic acted', escalated: 'all 1 step(s) tried', late: 'alert resolved after escalation' }[o.outcome];
    const detection = o.ttd === undefined ? { source: 'generic' } : { source: 'detector', ttdSeconds: String(o.ttd) };
    return [
      publishInput(base, [{ seq: 0, at: startedAt, kind: 'alert.opened', message: 'incident opened', data: { detection } }]),
      publishInput({ ...base, status, outcome, endedAt }, [{ seq: 1, at: endedAt, kind: 'resolution', message: `${status}: ${outcome}`, data: { status, outcome } }]),
    ];
  }

  beforeAll(async () => {
    const started = await backend.start();
    closeBackend = started.close;
    where = started.config.path ?? started.config.url!;
    // undefined: left out of the child's environment (an empty MEDIC_STORE_PATH would be a path)
    envVar = started.config.url ? { MEDIC_STORE_URL: started.config.url, MEDIC_STORE_PATH: undefined } : { MEDIC_STORE_PATH: started.config.path! };
    const store = await started.open();
    const all = [
      // this week: DemoServiceDown is mostly noise
      ...[1, 2, 3, 4].flatMap((d) => incident({ alertname: 'DemoServiceDown', daysAgo: d, outcome: 'noise' })),
      ...incident({ alertname: 'DemoServiceDown', daysAgo: 5, outcome: 'auto', minutes: 2, ttd: 40 }),
      ...incident({ alertname: 'DiskFull', daysAgo: 2, outcome: 'auto', minutes: 4, ttd: 20 }),
      ...incident({ alertname: 'DiskFull', daysAgo: 3, outcome: 'late', minutes: 30 }),
      ...incident({ alertname: 'HighLatency', daysAgo: 6, outcome: 'escalated', minutes: 60 }),
      // the week before
      ...incident({ alertname: 'DemoServiceDown', daysAgo: 8, outcome: 'auto', minutes: 10, ttd: 90 }),
      ...incident({ alertname: 'DiskFull', daysAgo: 9, outcome: 'escalated', minutes: 60 }),
      ...incident({ alertname: 'DiskFull', daysAgo: 10, outcome: 'auto', minutes: 6, ttd: 30 }),
      // older than both periods: not counted
      ...incident({ alertname: 'DemoServiceDown', daysAgo: 20, outcome: 'noise' }),
    ];
    for (const p of all) await store.record(p);
    // a retried publish writes nothing twice
    for (const p of all.slice(0, 4)) await store.record(p);
    await store.close();
  });

  it('prints this week against last week, MTTR/TTD, noise per rule and a suggestion for the noisiest', async () => {
    const r = await report('--store', where); // default: 7 days
    printed.written = r.out;
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^medic report: .* UTC \(7d\) vs the previous 7d$/m);
    expect(line(r.out, 'incidents')).toMatch(/^incidents\s+8\s+3\s+\+5$/);
    expect(line(r.out, 'auto-resolved')).toMatch(/^auto-resolved\s+2 \(25\.0%\)\s+2 \(66\.7%\)\s+=$/);
    expect(line(r.out, 'escalated')).toMatch(/^escalated\s+2 \(25\.0%\)\s+1 \(33\.3%\)\s+\+1$/);
    expect(line(r.out, 'false positives')).toMatch(/^false positives \(noise\)\s+4 \(50\.0%\)\s+0 \(0\.0%\)\s+\+4$/);
    // recovered this week: 2m, 4m, 30m → p50 4m, mean 12m; last week: 10m, 6m → p50 8m, mean 8m
    expect(line(r.out, 'MTTR')).toMatch(/^MTTR p50 \/ mean\s+4m \/ 12m \(n=3\)\s+8m \/ 8m \(n=2\)$/);
    expect(line(r.out, 'TTD')).toMatch(/^TTD p50 \/ mean\s+30s \/ 30s \(n=2\)\s+1m \/ 1m \(n=2\)$/);
    expect(line(r.out, 'DemoServiceDown')).toMatch(/^DemoServiceDown\s+4 of 5 \(80%\)$/);
    expect(line(r.out, 'DiskFull')).toMatch(/^DiskFull\s+0 of 2 \(0%\)$/);
    expect(r.out).toContain('suggestions:\n  DemoServiceDown: 4 of 5 incidents resolved by themselves before any action — consider a longer `for:` or a higher threshold');
    expect(r.out).not.toMatch(/DiskFull: .* consider/);
  });

  it('--json gives the same numbers; a missing store or a bad --since is a usage error', async () => {
    const j = JSON.parse((await report('--store', where, '--since', '7d', '--json')).out) as { current: { incidents: number; noise: number; mttr: { mean: number } }; previous: { incidents: number } };
    expect([j.current.incidents, j.current.noise, j.previous.incidents, j.current.mttr.mean]).toEqual([8, 4, 3, 720]);
    const missing = await report('--store', join(dir, 'nope.db'));
    expect([missing.code, missing.err.trim()]).toEqual([2, `medic: no incident store at ${join(dir, 'nope.db')}`]);
    expect((await report('--store', where, '--since', 'yesterday')).err).toContain('--since must be a duration like 7d or 24h');
    // the store's place from the config (MEDIC_STORE_PATH / MEDIC_STORE_URL) when --store is not given
    expect(line((await reportWith(envVar, '--since', '14d')).out, 'incidents')).toMatch(/^incidents\s+11\s+1\s+\+10$/);
  });

  it('TTD: a detector measures its own; Alertmanager from startsAt to receipt; others unknown', () => {
    expect(ttdSecondsOf({ source: 'detector', ttdSeconds: '12.5' })).toBe(12.5);
    expect(ttdSecondsOf({ source: 'alertmanager', startsAt: '2026-01-01T00:00:00Z', receivedAt: Date.parse('2026-01-01T00:01:30Z') })).toBe(90);
    expect(ttdSecondsOf({ source: 'alertmanager', startsAt: '0001-01-01T00:00:00Z', receivedAt: 1 })).toBeNull();
    expect(ttdSecondsOf({ source: 'generic', startsAt: '2026-01-01T00:00:00Z', receivedAt: Date.parse('2026-01-01T00:01:30Z') })).toBeNull();
  });

  afterAll(async () => {
    await closeBackend?.();
    // the printed reports, for the closing note
    console.log(`\n--- medic report (real incidents) ---\n${printed.real ?? ''}\n--- medic report (7d vs previous) ---\n${printed.written ?? ''}`);
  });
});
