// An incident's true scope: how many alerts and distinct targets it covers, counting the alerts
// Alertmanager left out of a capped notification (webhook max_alerts → truncatedAlerts). Each
// left-out alert may be a further target, so the blast-radius gate counts it as one: an incident
// covering more targets than a step allows escalates instead of acting on the few it can see.
// Pure, bounded state (it is carried across continue-as-new).
import type { Playbook } from '../playbooks/schema.js';
import type { Alert, IncidentState } from '../../workflows/contracts.js';

/** Distinct target keys kept; beyond, they are only counted. */
export const SCOPE_TARGET_CAP = 500;
/** Alertmanager groups whose truncation is remembered. */
const GROUP_CAP = 100;

export interface Scope {
  /** Alerts firing now, as far as medic knows, plus those left out of capped notifications. */
  alerts: number;
  /** Alerts Alertmanager left out (latest notification of each group). */
  truncated: number;
  /** Distinct targets (playbook scope.targetLabels): seen, and the most it may be. */
  targets?: { seen: number; atMost: number };
}

const targetKey = (labels: Record<string, string>, names: string[]): string | undefined => {
  const values = names.map((n) => labels[n] ?? '');
  return values.every((v) => v === '') ? undefined : JSON.stringify(values);
};

export type ScopeState = NonNullable<IncidentState['scope']>;

/** Records what a batch of alerts says about the scope. */
export function applyScope(s: IncidentState, pb: Pick<Playbook, 'scope'>, alerts: Alert[]): void {
  addToScope((s.scope ??= { targets: [], targetsOver: 0, truncated: {} }), pb, alerts);
}

/** The scope of the batch that opens an incident: the intake hands it over with the start, so
 * the first gates already count every alert of the batch (the batch's signal comes later). */
export function scopeOfBatch(pb: Pick<Playbook, 'scope'>, alerts: Alert[]): ScopeState {
  const sc: ScopeState = { targets: [], targetsOver: 0, truncated: {} };
  addToScope(sc, pb, alerts);
  return sc;
}

function addToScope(sc: ScopeState, pb: Pick<Playbook, 'scope'>, alerts: Alert[]): void {
  for (const a of alerts) {
    const n = a.notification;
    if (n) {
      if (n.truncatedAlerts > 0 && (n.group in sc.truncated || Object.keys(sc.truncated).length < GROUP_CAP)) sc.truncated[n.group] = n.truncatedAlerts;
      else delete sc.truncated[n.group];
    }
    const names = pb.scope?.targetLabels;
    if (!names || a.status !== 'firing') continue;
    const key = targetKey(a.labels, names);
    if (key === undefined || sc.targets.includes(key)) continue;
    if (sc.targets.length < SCOPE_TARGET_CAP) sc.targets.push(key);
    else sc.targetsOver += 1;
  }
}

export function scopeOf(s: IncidentState, pb: Pick<Playbook, 'scope'>): Scope {
  const truncated = Object.values(s.scope?.truncated ?? {}).reduce((a, b) => a + b, 0);
  const firing = Object.values(s.fingerprints).filter((st) => st === 'firing').length + (s.fingerprintsEvicted?.firing ?? 0);
  const seen = (s.scope?.targets.length ?? 0) + (s.scope?.targetsOver ?? 0);
  return {
    alerts: firing + truncated,
    truncated,
    ...(pb.scope ? { targets: { seen, atMost: seen + truncated } } : {}),
  };
}

/** "3 alerts (1 left out of a capped notification), 2–3 targets" for the root message and page. */
export function describeScope(sc: Scope): string {
  const alerts = `${sc.alerts} alert${sc.alerts === 1 ? '' : 's'}${sc.truncated > 0 ? ` (${sc.truncated} left out of a capped Alertmanager notification)` : ''}`;
  if (!sc.targets) return alerts;
  const { seen, atMost } = sc.targets;
  return `${alerts}, ${seen === atMost ? seen : `${seen}–${atMost}`} distinct target${atMost === 1 ? '' : 's'}`;
}
