// The incident store fed by the store sink on a real Temporal dev server, and the KPIs on medic's
// /metrics (prom-client) matching the incidents that were run — the same tests on a SQLite file
// and on a real PostgreSQL server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStoreSink } from '../../activities/store.js';
import { ConfigSchema } from '../../src/config.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Playbook, PlaybookInput } from '../../src/playbooks/schema.js';
import { buildMetricsServer } from '../../src/server/metrics.js';
import { medicRegistry } from '../../src/store/metrics.js';
import type { IncidentStore } from '../../src/store/store.js';
import { statusQuery, timelineQuery, type IncidentStatus, type PublishInput } from '../../workflows/contracts.js';
import { demoRestartStep, useDevServerAndDemo } from '../support/demo-stack.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { STORE_BACKENDS } from '../support/stores.js';
import { medicWorker, uniqueQueue } from '../support/temporal.js';

const dev = useDevServerAndDemo();

describe.each(STORE_BACKENDS)('incident store and KPIs ($name)', (backend) => {
  let store: IncidentStore;
  let closeBackend: () => Promise<void>;
  let worker: Awaited<ReturnType<typeof medicWorker>>;
  let running: Promise<void>;
  const taskQueue = uniqueQueue(`store-${backend.name}`);
  const playbooks: Playbook[] = [];
  let flakyCalls = 0;

  beforeAll(async () => {
    const started = await backend.start();
    closeBackend = started.close;
    store = await started.open();
    // fails every third publish: the retried activity hands the store the same entries again
    const flaky = {
      name: 'flaky',
      async publish(_i: PublishInput) {
        if (++flakyCalls % 3 === 1) throw new Error('flaky sink down');
      },
    };
    worker = await medicWorker(dev.env, taskQueue, {}, [createStoreSink(store), flaky]);
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await store?.close();
    await closeBackend?.();
  });

  const step = (extra: Record<string, unknown> = {}) => demoRestartStep(dev.demo.url, extra);
  let n = 0;
  function playbook(overrides: Partial<PlaybookInput>): string {
    const alertname = `Store${++n}`;
    playbooks.push(demoPlaybook(dev.demo.url, { name: `store-${n}`, match: { alertname }, steps: [step()], holdAfterEscalation: '1s', ...overrides }));
    return alertname;
  }
  const send = async (alertname: string, status: 'firing' | 'resolved' = 'firing'): Promise<string> => {
    const r = await ingestAlerts({ client: dev.env.client, taskQueue, playbooks: () => playbooks, log: silentLog }, [
      firingAlert({ alertname, service: `svc-${backend.name}-${alertname}` }, status),
    ]);
    return r.incidents[0]!.workflowId;
  };
  const handle = (id: string) => dev.env.client.workflow.getHandle(id);
  const result = async (id: string) => (await handle(id).result()) as IncidentStatus;
  async function until(id: string, ok: (s: IncidentStatus) => boolean): Promise<void> {
    for (let i = 0; !ok(await handle(id).query(statusQuery)); i++) {
      if (i > 300) throw new Error(`timed out waiting on ${id}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const ran: Record<string, IncidentStatus> = {};
  it('records incidents, their steps, outcomes and timings, each timeline entry once', async () => {
    dev.demo.state.fault = 'outage'; // the restart heals it
    const healed = await send(playbook({}));
    ran.auto = await result(healed);

    dev.demo.state.fault = 'stubborn'; // restarts do not help
    ran.escalated = await result(await send(playbook({})));

    const late = playbook({ holdAfterEscalation: '5m' });
    const lateId = await send(late);
    await until(lateId, (s) => s.status === 'escalated');
    await send(late, 'resolved');
    ran.afterEscalation = await result(lateId);
    dev.demo.state.fault = 'none';

    const noisy = playbook({ steps: [step({ requiresApproval: true, approvers: ['bob'] })] });
    const noisyId = await send(noisy);
    await until(noisyId, (s) => s.status === 'awaiting_approval');
    await send(noisy, 'resolved');
    ran.noise = await result(noisyId);
    expect(flakyCalls).toBeGreaterThan(3);

    const rows = new Map((await store.incidents()).map((r) => [r.incident_id, r]));
    const classOf = (s: IncidentStatus) => rows.get(s.incidentId)?.outcome_class;
    expect([classOf(ran.auto!), classOf(ran.escalated!), classOf(ran.afterEscalation!), classOf(ran.noise!)]).toEqual([
      'auto_resolved',
      'escalated',
      'resolved_after_escalation',
      'resolved_before_action',
    ]);
    const auto = rows.get(ran.auto!.incidentId)!;
    expect(auto).toMatchObject({ status: 'resolved', acted: 1, escalated: 0, opened_at: ran.auto!.startedAt, ended_at: ran.auto!.endedAt, playbook: 'store-1' });
    expect(await store.steps(ran.auto!.incidentId)).toMatchObject([{ step: 0, try: 1, name: 'restart', result: 'succeeded', http_status: 200, verified: 1 }]);
    expect(await store.steps(ran.escalated!.incidentId)).toMatchObject([{ step: 0, try: 1, result: 'succeeded', verified: 0 }]);
    expect(await store.steps(ran.noise!.incidentId)).toEqual([]);
    for (const s of Object.values(ran)) {
      const timeline = await handle(s.workflowId).query(timelineQuery);
      expect((await store.events(s.incidentId)).map((e) => [e.seq, e.message])).toEqual(timeline.map((e) => [e.seq, e.message]));
    }
  });

  it('/metrics on the medic server reports incidents by outcome, totals, MTTR and process metrics', async () => {
    const config = ConfigSchema.parse({ http: { port: 0 }, temporal: { taskQueue }, intake: { alertmanagerToken: 'intake-token-0123456789' } });
    // /metrics is served by the metrics listener (never the public one), from the store's KPI counters
    const server = buildMetricsServer({ config, registry: medicRegistry(store), log: silentLog });
    try {
      const res = await server.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain');
      const value = (series: string): number => {
        const line = res.body.split('\n').find((l) => l.startsWith(`${series} `));
        if (!line) throw new Error(`no ${series} in /metrics`);
        return Number(line.slice(series.length + 1));
      };
      expect(value('medic_incidents_total{outcome="auto_resolved"}')).toBe(1);
      expect(value('medic_incidents_total{outcome="escalated"}')).toBe(1);
      expect(value('medic_incidents_total{outcome="resolved_after_escalation"}')).toBe(1);
      expect(value('medic_incidents_total{outcome="resolved_before_action"}')).toBe(1);
      expect(value('medic_incidents_auto_resolved_total')).toBe(1);
      expect(value('medic_incidents_escalated_total')).toBe(2);
      expect(value('medic_incidents_open')).toBe(0);
      const recovered = [ran.auto!, ran.afterEscalation!].map((s) => (s.endedAt! - s.startedAt) / 1000);
      expect(value('medic_incident_time_to_recover_seconds_count')).toBe(2);
      expect(value('medic_incident_time_to_recover_seconds_sum')).toBeCloseTo(recovered[0]! + recovered[1]!, 3);
      expect(value('medic_incident_time_to_recover_seconds_bucket{le="+Inf"}')).toBe(2);
      expect(value('medic_step_runs_total{playbook="store-1",step="restart",result="succeeded"}')).toBe(1);
      // Node process metrics too (CPU counts from the registry's creation, just now: a scrape that
      // reads counters can take less than one CPU tick, so only the start time is surely > 0)
      expect(value('process_start_time_seconds')).toBeGreaterThan(0);
      expect(value('process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
    } finally {
      await server.close();
    }
  });
});
