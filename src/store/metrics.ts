// KPIs on /metrics (prom-client), read from the incident store at scrape time (async collect), so
// the server reports what the workers recorded: incidents by outcome, open incidents, auto-resolved
// and escalated totals, time to recover (MTTR histogram), step results; plus Node process metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IncidentStore, OutcomeClass } from './store.js';

export const OUTCOMES: OutcomeClass[] = ['auto_resolved', 'resolved_before_action', 'resolved_after_escalation', 'escalated'];
export const RECOVERY_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400];

export function medicRegistry(store?: IncidentStore): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (!store) return registry;
  new Counter({
    name: 'medic_incidents_total',
    help: 'Incidents that ended, by outcome (auto_resolved, resolved_before_action, resolved_after_escalation, escalated)',
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
      const n = (await store.outcomes()).filter((o) => o.outcome === 'escalated' || o.outcome === 'resolved_after_escalation').reduce((a, o) => a + o.n, 0);
      this.inc(n);
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
  return registry;
}
