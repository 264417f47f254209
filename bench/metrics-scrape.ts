// npm run bench:metrics — /metrics scrape latency with 10,000 incidents in the store (SQLite file):
// before (every scrape scanned incidents, events and steps, as medic did up to the KPI counters)
// vs after (a scrape reads the kpi_counters table the store keeps up to date). Prints both, and
// checks that they report the same numbers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { actionCounts, approvalKpis } from '../src/store/kpis.js';
import { APPROVAL_BUCKETS, DETECT_BUCKETS, medicRegistry, OUTCOMES, RECOVERY_BUCKETS } from '../src/store/metrics.js';
import { openIncidentStore, type IncidentStore } from '../src/store/store.js';
import type { IncidentStatus, PublishInput } from '../workflows/contracts.js';
import { runBench } from './lib/process.js';

const N = Number(process.env.BENCH_INCIDENTS ?? 10_000);
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 20);

/** The scrape as it was: table scans at collect time (kept here as the baseline). */
function scanRegistry(store: IncidentStore): Registry {
  const r = new Registry();
  collectDefaultMetrics({ register: r });
  const outcomes = async (o: string) => (await store.outcomes()).find((x) => x.outcome === o)?.n ?? 0;
  new Counter({ name: 'medic_incidents_total', help: '-', labelNames: ['outcome'], registers: [r], async collect() {
    this.reset();
    const counts = new Map((await store.outcomes()).map((o) => [o.outcome, o.n]));
    for (const outcome of OUTCOMES) this.inc({ outcome }, counts.get(outcome) ?? 0);
  } });
  new Counter({ name: 'medic_incidents_auto_resolved_total', help: '-', registers: [r], async collect() { this.reset(); this.inc(await outcomes('auto_resolved')); } });
  new Counter({ name: 'medic_incidents_escalated_total', help: '-', registers: [r], async collect() {
    this.reset();
    this.inc((await store.incidents()).filter((x) => x.outcome_class !== null && Number(x.escalated) === 1).length);
  } });
  new Gauge({ name: 'medic_incidents_open', help: '-', registers: [r], async collect() { this.set(await store.openCount()); } });
  new Histogram({ name: 'medic_incident_time_to_recover_seconds', help: '-', buckets: RECOVERY_BUCKETS, registers: [r], async collect() {
    this.reset();
    for (const s of await store.recoverySeconds()) this.observe(s);
  } });
  new Counter({ name: 'medic_step_runs_total', help: '-', labelNames: ['playbook', 'step', 'result'], registers: [r], async collect() {
    this.reset();
    for (const x of await store.stepResults()) this.inc({ playbook: x.playbook, step: x.step, result: x.result }, x.n);
  } });
  new Counter({ name: 'medic_false_positives_total', help: '-', registers: [r], async collect() { this.reset(); this.inc(await outcomes('resolved_before_action')); } });
  new Histogram({ name: 'medic_incident_time_to_detect_seconds', help: '-', buckets: DETECT_BUCKETS, registers: [r], async collect() {
    this.reset();
    for (const x of await store.incidents()) if (x.ttd_seconds !== null) this.observe(Number(x.ttd_seconds));
  } });
  let events: ReturnType<IncidentStore['kpiEvents']> | undefined; // one read per scrape, as before
  const kpiEvents = () => (events ??= store.kpiEvents());
  new Gauge({ name: 'medic_approvals_pending', help: '-', registers: [r], async collect() { this.set(approvalKpis(await kpiEvents()).pending); } });
  new Histogram({ name: 'medic_approval_latency_seconds', help: '-', labelNames: ['decision'], buckets: APPROVAL_BUCKETS, registers: [r], async collect() {
    this.reset();
    for (const l of approvalKpis(await kpiEvents()).latencies) this.observe({ decision: l.decision }, l.seconds);
  } });
  new Counter({ name: 'medic_actions_total', help: '-', labelNames: ['type', 'result'], registers: [r], async collect() {
    this.reset();
    for (const a of actionCounts(await kpiEvents())) this.inc({ type: a.type, result: a.result }, a.n);
    events = undefined;
  } });
  return r;
}

/** One incident's publishes: opened, (approval), action, resolution — a mix of outcomes. */
function incident(i: number, t0: number): PublishInput[] {
  const id = `incident:bench-${i % 20}:${i.toString(16).padStart(12, '0')}:abcdef01`;
  const base = { incidentId: id, workflowId: id.slice(0, -9), playbook: `bench-${i % 20}`, service: `svc-${i % 50}`, severity: 'critical', alertname: 'Bench', target: `host-${i}`, alertsReceived: 1, startedAt: t0, acted: false, escalationSent: false };
  const pub = (incident: Record<string, unknown>, entries: PublishInput['entries']): PublishInput => ({ incident: { ...base, status: 'open', ...incident } as unknown as IncidentStatus, refs: {}, entries });
  const kind = i % 4; // 0 healed, 1 approved then healed, 2 noise, 3 escalated
  const out = [pub({}, [{ seq: 0, at: t0, kind: 'alert.opened', message: 'incident opened', data: { detection: { source: 'alertmanager', startsAt: new Date(t0 - (i % 90) * 1000).toISOString(), receivedAt: t0 } } }])];
  if (kind === 2) return [...out, pub({ status: 'resolved', outcome: 'alert resolved before medic acted', endedAt: t0 + 5_000 }, [{ seq: 1, at: t0 + 5_000, kind: 'resolution', message: 'resolved', data: { status: 'resolved', outcome: 'alert resolved before medic acted' } }])];
  let seq = 1;
  const entries: PublishInput['entries'] = [];
  if (kind === 1) {
    entries.push({ seq: seq++, at: t0 + 500, kind: 'approval.requested', step: 0, message: 'approval needed', data: { request: { step: 0, stepName: 'restart', what: 'restart', risk: 'high', approvers: ['alice'], fourEyes: false, requestedAt: t0 + 500, expiresAt: t0 + 3_600_500 } } });
    entries.push({ seq: seq++, at: t0 + 30_500, kind: 'approval.decided', step: 0, message: 'step 1 approved by alice', data: { decision: 'approve', by: 'alice' } });
  }
  entries.push({ seq: seq++, at: t0 + 31_000, kind: 'action.started', step: 0, message: 'step 1/1 (restart) started: POST http://svc/restart', data: { idempotencyKey: `${id}:step-0:try-1`, stepName: 'restart', try: 1, dryRun: false, action: 'http' } });
  entries.push({ seq: seq++, at: t0 + 32_000, kind: 'action.succeeded', step: 0, message: 'step 1/1 (restart) succeeded: HTTP 200', data: { dryRun: false, httpStatus: 200, output: { status: 200 } } });
  out.push(pub({ acted: true, status: 'verifying' }, entries));
  const end = kind === 3 ? ({ status: 'escalated', outcome: 'verification failed', escalationSent: true } as const) : ({ status: 'resolved', outcome: 'healed by step 1/1 (restart)' } as const);
  out.push(pub({ acted: true, ...end, endedAt: t0 + 90_000 }, [{ seq, at: t0 + 90_000, kind: 'resolution', message: `${end.status}`, data: { status: end.status, outcome: end.outcome } }]));
  return out;
}

async function time(registry: Registry): Promise<{ ms: number[]; text: string }> {
  const ms: number[] = [];
  let text = '';
  for (let i = 0; i < SCRAPES; i++) {
    const t = performance.now();
    text = await registry.metrics();
    ms.push(performance.now() - t);
  }
  return { ms, text };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kpiLines = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('medic_')).sort();

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'medic-bench-metrics-'));
  try {
    const store = await openIncidentStore({ path: join(dir, 'store.db') });
    const t0 = Date.UTC(2026, 0, 1);
    const started = performance.now();
    for (let i = 0; i < N; i++) for (const p of incident(i, t0 + i * 60_000)) await store.record(p);
    console.log(`bench: recorded ${N} incidents in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const before = await time(scanRegistry(store));
    const after = await time(medicRegistry(store, { cacheMs: 0 }));
    const same = JSON.stringify(kpiLines(before.text)) === JSON.stringify(kpiLines(after.text));
    const b = median(before.ms);
    const a = median(after.ms);
    console.log(`/metrics scrape with ${N} incidents (median of ${SCRAPES}):`);
    console.log(`  before (table scans per scrape): ${b.toFixed(2)} ms`);
    console.log(`  after  (store KPI counters):     ${a.toFixed(2)} ms`);
    console.log(`  ratio: ${(b / a).toFixed(1)}x faster; same KPI values: ${same ? 'yes' : 'NO'}`);
    await store.close();
    if (!same) {
      const bl = new Set(kpiLines(before.text));
      const al = new Set(kpiLines(after.text));
      console.log('only before:', [...bl].filter((l) => !al.has(l)).slice(0, 20));
      console.log('only after:', [...al].filter((l) => !bl.has(l)).slice(0, 20));
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runBench(main);
