// KPIs on /metrics (prom-client) from the incident store's KPI counters (src/store/kpi-counters.ts),
// which the store keeps up to date as the workers record incidents: a scrape reads one table of a
// few dozen rows, however many incidents the store holds, and every server replica reports the
// same numbers. Incidents by outcome, open incidents, auto-resolved and escalated totals, false
// positives, time to recover (MTTR) and to detect (TTD) histograms, step results, approvals
// pending and their latency, actions by type and result (meanings: src/store/kpis.ts); plus Node
// process metrics.
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import { APPROVAL_BUCKETS, DETECT_BUCKETS, OUTCOME_CLASSES, RECOVERY_BUCKETS, splitKey, type Cells } from './kpis.js';
import type { IncidentStore, OutcomeClass } from './store.js';

export { APPROVAL_BUCKETS, DETECT_BUCKETS, RECOVERY_BUCKETS };
export const OUTCOMES: OutcomeClass[] = [...OUTCOME_CLASSES];

type Snapshot = { metric: string; labels: Record<string, string>; value: number }[];

/** A histogram whose buckets, sum and count come from stored counters (prom-client's Histogram can only observe). */
class StoredHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
    private readonly read: () => Promise<Snapshot>,
    /** Without labels there is one series, shown (all zero) before anything was observed. */
    private readonly labelled = false,
  ) {}

  async getForPromString() {
    const series = new Map<string, { labels: Record<string, string>; perBucket: Map<string, number>; sum: number; count: number }>();
    const seriesOf = (labels: Record<string, string>) => {
      const key = JSON.stringify(labels);
      return series.get(key) ?? series.set(key, { labels, perBucket: new Map(), sum: 0, count: 0 }).get(key)!;
    };
    if (!this.labelled) seriesOf({});
    for (const c of await this.read()) {
      if (c.metric === `${this.name}_bucket`) {
        const { le, ...labels } = c.labels;
        seriesOf(labels).perBucket.set(le ?? '+Inf', c.value);
      } else if (c.metric === `${this.name}_sum`) seriesOf(c.labels).sum = c.value;
      else if (c.metric === `${this.name}_count`) seriesOf(c.labels).count = c.value;
    }
    const values = [...series.values()].flatMap((s) => {
      let acc = 0;
      const bucket = this.buckets.map((b) => {
        acc += s.perBucket.get(String(b)) ?? 0;
        return { labels: { le: b }, sharedLabels: s.labels, value: acc, metricName: `${this.name}_bucket` };
      });
      return [
        ...bucket,
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket` },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` },
      ];
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  async get() {
    const m = await this.getForPromString();
    return { ...m, values: m.values.map(({ labels, sharedLabels, value, metricName }) => ({ labels: { ...labels, ...sharedLabels }, value, metricName })) };
  }
}

/** cacheMs: how long one read of the counters serves scrapes (the metrics of one scrape share it). */
export function medicRegistry(store?: IncidentStore, opts: { cacheMs?: number } = {}): Registry {
  const cacheMs = opts.cacheMs ?? 1_000;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (!store) return registry;
  // One read of the counters serves every metric of a scrape.
  let cached: { at: number; rows: Promise<Snapshot> } | undefined;
  const snapshot = (): Promise<Snapshot> => {
    if (!cached || Date.now() - cached.at > cacheMs) {
      const rows = store.kpiCounters().then((cells: Cells) => [...cells].map(([k, value]) => ({ ...splitKey(k), value })));
      cached = { at: Date.now(), rows };
      rows.catch(() => (cached = undefined)); // a failed read is not cached
    }
    return cached.rows;
  };
  const of = async (metric: string): Promise<Snapshot> => (await snapshot()).filter((c) => c.metric === metric);
  const total = async (metric: string, labels: Record<string, string> = {}): Promise<number> =>
    (await of(metric)).filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v)).reduce((n, c) => n + c.value, 0);
  // Counts are integers; float rounding in the stored sums must not make a counter negative.
  const count = (n: number): number => Math.max(0, Math.round(n));

  new Counter({
    name: 'medic_incidents_total',
    help: 'Incidents that ended, by outcome (auto_resolved, resolved_before_action, resolved_after_escalation, resolved_by_human, escalated)',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const outcome of OUTCOMES) this.inc({ outcome }, count(await total('medic_incidents_total', { outcome })));
    },
  });
  new Counter({
    name: 'medic_incidents_auto_resolved_total',
    help: 'Incidents medic healed by itself (acted, verified, no escalation)',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc(count(await total('medic_incidents_total', { outcome: 'auto_resolved' })));
    },
  });
  new Counter({
    name: 'medic_incidents_escalated_total',
    help: 'Incidents medic escalated to people (whether or not they resolved later)',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc(count(await total('medic_incidents_escalated_total')));
    },
  });
  new Gauge({
    name: 'medic_incidents_open',
    help: 'Incidents not ended yet',
    registers: [registry],
    async collect() {
      this.set(count(await total('medic_incidents_open')));
    },
  });
  const histogram = (name: string, help: string, buckets: number[], labelled = false): void =>
    registry.registerMetric(new StoredHistogram(name, help, buckets, snapshot, labelled) as unknown as Metric);
  histogram(
    'medic_incident_time_to_recover_seconds',
    'Time from an incident opening to its recovery (MTTR = sum / count), for incidents that recovered after medic acted or escalated',
    RECOVERY_BUCKETS,
  );
  new Counter({
    name: 'medic_step_runs_total',
    help: 'Step tries that finished, by playbook, step and result',
    labelNames: ['playbook', 'step', 'result'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await of('medic_step_runs_total')) if (count(c.value) > 0) this.inc(c.labels, count(c.value));
    },
  });
  new Counter({
    name: 'medic_false_positives_total',
    help: 'Incidents whose alert resolved by itself before medic took any action (noise)',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc(count(await total('medic_incidents_total', { outcome: 'resolved_before_action' })));
    },
  });
  histogram(
    'medic_incident_time_to_detect_seconds',
    'Time from the problem starting to medic receiving its alert (detector ttdSeconds, or Alertmanager startsAt → received), where known',
    DETECT_BUCKETS,
  );
  new Gauge({
    name: 'medic_approvals_pending',
    help: 'Approval requests of running incidents waiting for a decision',
    registers: [registry],
    async collect() {
      this.set(count(await total('medic_approvals_pending')));
    },
  });
  histogram('medic_approval_latency_seconds', 'Time from an approval request to its decision (approve, deny) or expiry', APPROVAL_BUCKETS, true);
  new Counter({
    name: 'medic_actions_total',
    help: 'Actions that finished, by action type (http, ssm-command, …) and result (succeeded, failed, dry run)',
    labelNames: ['type', 'result'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await of('medic_actions_total')) if (count(c.value) > 0) this.inc(c.labels, count(c.value));
    },
  });
  return registry;
}
