// KPIs on /metrics (prom-client), read from the incident store at scrape time (async collect), so
// the server reports what the workers recorded: incidents by outcome, open incidents, auto-resolved
// and escalated totals, false positives, time to recover (MTTR) and to detect (TTD) histograms,
// step results, approvals pending and their latency, actions by type and result (src/store/kpis.ts);
// plus Node process metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { actionCounts, approvalKpis } from './kpis.js';
import type { IncidentStore, OutcomeClass } from './store.js';

export const OUTCOMES: OutcomeClass[] = ['auto_resolved', 'resolved_before_action', 'resolved_after_escalation', 'resolved_by_human', 'escalated'];
export const RECOVERY_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400];
export const DETECT_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];
export const APPROVAL_BUCKETS = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];

export function medicRegistry(store?: IncidentStore): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (!store) return registry;
  new Counter({
    name: 'medic_incidents_total',
    help: 'Incidents that ended, by outcome (auto_resolved, resolved_before_action, resolved_after_escalation, resolved_by_human, escalated)',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      this.reset();
      const counts = new Map((await store.outcomes()).map((o) => [o.outcome, o.n]));
      for (const outcome of OUTCOMES) this.inc({ outcome }, counts.get(outcome) ?? 0);
    },
  });
  new Counter({
    name: 'medic_incidents_auto_resolved_total',
    help: 'Incidents medic healed by itself (acted, verified, no escalation)',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await store.outcomes()).find((o) => o.outcome === 'auto_resolved')?.n ?? 0);
    },
  });
  new Counter({
    name: 'medic_incidents_escalated_total',
    help: 'Incidents medic escalated to people (whether or not they resolved later)',
    registers: [registry],
    async collect() {
      this.reset();
      // Escalated ones that a person resolved count too (the escalated flag, whatever the outcome).
      this.inc((await store.incidents()).filter((r) => r.outcome_class !== null && Number(r.escalated) === 1).length);
    },
  });
  new Gauge({
    name: 'medic_incidents_open',
    help: 'Incidents not ended yet',
    registers: [registry],
    async collect() {
      this.set(await store.openCount());
    },
  });
  new Histogram({
    name: 'medic_incident_time_to_recover_seconds',
    help: 'Time from an incident opening to its recovery (MTTR = sum / count), for incidents that recovered after medic acted or escalated',
    buckets: RECOVERY_BUCKETS,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await store.recoverySeconds()) this.observe(s);
    },
  });
  new Counter({
    name: 'medic_step_runs_total',
    help: 'Step tries that finished, by playbook, step and result',
    labelNames: ['playbook', 'step', 'result'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await store.stepResults()) this.inc({ playbook: r.playbook, step: r.step, result: r.result }, r.n);
    },
  });
  new Counter({
    name: 'medic_false_positives_total',
    help: 'Incidents whose alert resolved by itself before medic took any action (noise)',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await store.outcomes()).find((o) => o.outcome === 'resolved_before_action')?.n ?? 0);
    },
  });
  new Histogram({
    name: 'medic_incident_time_to_detect_seconds',
    help: 'Time from the problem starting to medic receiving its alert (detector ttdSeconds, or Alertmanager startsAt → received), where known',
    buckets: DETECT_BUCKETS,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await store.incidents()) if (r.ttd_seconds !== null && r.ttd_seconds !== undefined) this.observe(Number(r.ttd_seconds));
    },
  });
  // Approvals and actions come from the timeline rows; one read serves the three of them.
  let events: { at: number; rows: Promise<Awaited<ReturnType<IncidentStore['kpiEvents']>>> } | undefined;
  const kpiEvents = (): Promise<Awaited<ReturnType<IncidentStore['kpiEvents']>>> => {
    if (!events || Date.now() - events.at > 1_000) events = { at: Date.now(), rows: store.kpiEvents() };
    return events.rows;
  };
  new Gauge({
    name: 'medic_approvals_pending',
    help: 'Approval requests of running incidents waiting for a decision',
    registers: [registry],
    async collect() {
      this.set(approvalKpis(await kpiEvents()).pending);
    },
  });
  new Histogram({
    name: 'medic_approval_latency_seconds',
    help: 'Time from an approval request to its decision (approve, deny) or expiry',
    labelNames: ['decision'],
    buckets: APPROVAL_BUCKETS,
    registers: [registry],
    async collect() {
      this.reset();
      for (const l of approvalKpis(await kpiEvents()).latencies) this.observe({ decision: l.decision }, l.seconds);
    },
  });
  new Counter({
    name: 'medic_actions_total',
    help: 'Actions that finished, by action type (http, ssm-command, …) and result (succeeded, failed, dry run)',
    labelNames: ['type', 'result'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const a of actionCounts(await kpiEvents())) this.inc({ type: a.type, result: a.result }, a.n);
    },
  });
  return registry;
}
