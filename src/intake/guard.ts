// What the webhook routes do before any alert reaches an incident: per-source rate limits
// (429 + Retry-After), and request-size limits (413 naming the field and the limit), with the
// refusals counted on /metrics and recorded in the audit log (rate-limit refusals summarized at
// most once a minute per source, so a flood cannot flood the audit log).
import { Counter, type Registry } from 'prom-client';
import type { AuditLog } from '../audit/log.js';
import { type IntakeLimits, type LimitIssue } from './limits.js';
import { RateLimiter, type Take } from './rate-limit.js';

const AUDIT_EVERY_MS = 60_000;

export interface IntakeCounters {
  requests: Counter<'outcome'>;
  alerts: Counter<'outcome'>;
}

/** medic_intake_requests_total{outcome} and medic_intake_alerts_total{outcome}, once per registry. */
export function intakeCounters(registry?: Registry): IntakeCounters {
  const get = (name: string, help: string): Counter<'outcome'> =>
    (registry?.getSingleMetric(name) as Counter<'outcome'> | undefined) ??
    new Counter({ name, help, labelNames: ['outcome'], registers: registry ? [registry] : [] });
  return {
    requests: get('medic_intake_requests_total', 'Webhook requests by outcome (accepted, rate_limited, too_large, invalid, unauthorized)'),
    alerts: get(
      'medic_intake_alerts_total',
      'Alerts by outcome (delivered to an incident, correlated, overflowed to the playbook\'s overflow incident, unmatched, refused)',
    ),
  };
}

export class IntakeGuard {
  private readonly limiter: RateLimiter;
  /** Rate-limit refusals per source not yet in the audit log. */
  private readonly unaudited = new Map<string, { refused: number; lastAuditAt: number }>();

  constructor(
    readonly limits: IntakeLimits,
    private readonly audit: AuditLog | undefined,
    readonly counters: IntakeCounters,
    private readonly now: () => number = Date.now,
  ) {
    this.limiter = new RateLimiter({ ratePerSecond: limits.requestsPerSecond, burst: limits.burst, maxSources: limits.maxSources }, now);
  }

  /** Takes a token from the source's bucket; a refusal is counted (and audited, summarized). */
  take(source: string, route: string): Take {
    const t = this.limiter.take(source);
    if (!t.ok) {
      this.counters.requests.inc({ outcome: 'rate_limited' });
      this.auditRateLimited(source, route);
    }
    return t;
  }

  rateLimitMessage(source: string, retryAfterSeconds: number): string {
    return `rate limit: ${source} is over intake.limits.requestsPerSecond = ${this.limits.requestsPerSecond} (burst ${this.limits.burst}); retry after ${retryAfterSeconds} s`;
  }

  /** A request over the size limits was refused whole. */
  refusedTooLarge(source: string, route: string, alerts: number, issues: LimitIssue[]): void {
    this.counters.requests.inc({ outcome: 'too_large' });
    this.counters.alerts.inc({ outcome: 'refused' }, alerts);
    this.audit?.append([
      {
        at: new Date(this.now()).toISOString(),
        incidentId: null,
        seq: null,
        kind: 'intake-refused',
        who: source,
        what: `webhook request refused (413): over intake limits; none of its ${alerts} alerts was accepted`,
        why: issues.map((i) => `${i.path}: ${i.message}`).join('; '),
        target: route,
        before: '',
        after: '',
        data: { alerts, issues },
      },
    ]);
  }

  private auditRateLimited(source: string, route: string): void {
    if (!this.audit) return;
    const now = this.now();
    const u = this.unaudited.get(source) ?? { refused: 0, lastAuditAt: -Infinity };
    u.refused += 1;
    this.unaudited.delete(source);
    if (now - u.lastAuditAt < AUDIT_EVERY_MS) {
      this.unaudited.set(source, u);
    } else {
      this.audit.append([
        {
          at: new Date(now).toISOString(),
          incidentId: null,
          seq: null,
          kind: 'intake-rate-limited',
          who: source,
          what: `webhook requests refused (429): ${u.refused} since the last record`,
          why: `over intake.limits.requestsPerSecond = ${this.limits.requestsPerSecond} (burst ${this.limits.burst})`,
          target: route,
          before: '',
          after: '',
          data: { refused: u.refused },
        },
      ]);
      this.unaudited.set(source, { refused: 0, lastAuditAt: now });
    }
    // Bounded like the buckets: the least recently refused source is forgotten first.
    while (this.unaudited.size > this.limits.maxSources) {
      const oldest = this.unaudited.keys().next().value;
      if (oldest === undefined) break;
      this.unaudited.delete(oldest);
    }
  }
}
