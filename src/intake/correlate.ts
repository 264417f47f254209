// Correlation: alerts for a service that already has an open incident (opened within the
// window), or for a service that depends on one that has, attach to that incident instead of
// opening another. Kept in the intake process: exact for one medic server; with several
// replicas each correlates what it sees (Temporal's id dedup still prevents duplicates per key).
import { z } from 'zod';
import { Duration } from '../playbooks/schema.js';
import { toMs } from '../playbooks/duration.js';

export const CorrelationSchema = z.strictObject({
  window: Duration.default('10m').describe('Alerts within this long of an incident opening attach to it'),
  /** service → the services it depends on: their incidents absorb its symptoms. */
  dependsOn: z.record(z.string(), z.array(z.string())).default({}),
});
export type Correlation = z.infer<typeof CorrelationSchema>;

export interface Route {
  workflowId: string;
  reason: string;
}

export class Correlator {
  private readonly open = new Map<string, { workflowId: string; since: number }>();
  private readonly attached = new Map<string, { workflowId: string; at: number }>();
  private readonly windowMs: number;

  constructor(
    private readonly cfg: Correlation,
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = toMs(cfg.window);
  }

  private fresh(at: number): boolean {
    return this.now() - at <= this.windowMs;
  }

  /** An open incident this alert belongs to, or undefined to handle it on its own. */
  route(service: string | undefined, fingerprint: string, ownWorkflowId: string | undefined): Route | undefined {
    const earlier = this.attached.get(fingerprint);
    if (earlier && this.fresh(earlier.at)) return { workflowId: earlier.workflowId, reason: 'attached earlier' };
    if (!service) return undefined;
    const same = this.open.get(service);
    if (same && this.fresh(same.since) && same.workflowId !== ownWorkflowId) {
      return { workflowId: same.workflowId, reason: `same service ${service}` };
    }
    for (const upstream of this.cfg.dependsOn[service] ?? []) {
      const up = this.open.get(upstream);
      if (up && this.fresh(up.since)) return { workflowId: up.workflowId, reason: `${service} depends on ${upstream}` };
    }
    return undefined;
  }

  opened(service: string | undefined, workflowId: string): void {
    if (service && !this.open.has(service)) this.open.set(service, { workflowId, since: this.now() });
    this.prune();
  }

  attach(fingerprint: string, workflowId: string): void {
    this.attached.set(fingerprint, { workflowId, at: this.now() });
  }

  /** The incident ended (its signal failed): stop routing to it. */
  forget(workflowId: string): void {
    for (const [k, v] of this.open) if (v.workflowId === workflowId) this.open.delete(k);
    for (const [k, v] of this.attached) if (v.workflowId === workflowId) this.attached.delete(k);
  }

  private prune(): void {
    for (const [k, v] of this.open) if (!this.fresh(v.since)) this.open.delete(k);
    for (const [k, v] of this.attached) if (!this.fresh(v.at)) this.attached.delete(k);
  }
}
