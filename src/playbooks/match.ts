// Which playbook handles an alert, and the incident identity it gets (DESIGN.md: workflow id =
// incident:<playbook>:<short hash of the grouping labels>).
import { createHash } from 'node:crypto';
import type { Alert } from '../intake/schemas.js';
import type { Playbook } from './schema.js';
import { render } from './template.js';

const asList = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v];

function labelMatches(expected: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (expected.startsWith('~')) return new RegExp(`^(?:${expected.slice(1)})$`).test(actual);
  return expected === actual;
}

export function matches(pb: Playbook, alert: Alert): boolean {
  const names = asList(pb.match.alertname);
  const severities = asList(pb.match.severity);
  if (names && !names.includes(alert.alertname)) return false;
  if (severities && !severities.includes(alert.severity)) return false;
  return Object.entries(pb.match.labels ?? {}).every(([k, v]) => labelMatches(v, alert.labels[k]));
}

/** First matching playbook in load order (files are loaded sorted by name). */
export function findPlaybook(playbooks: Playbook[], alert: Alert): Playbook | undefined {
  return playbooks.find((pb) => matches(pb, alert));
}

export function groupingLabels(pb: Playbook, alert: Alert): Record<string, string> {
  const labels: Record<string, string> = { ...alert.labels, alertname: alert.alertname };
  return Object.fromEntries(pb.groupBy.map((k) => [k, labels[k] ?? '']));
}

export function shortHash(value: unknown, length = 12): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, length);
}

export function incidentWorkflowId(pb: Playbook, alert: Alert): string {
  // Code-point order, not localeCompare: the id must not depend on the server's locale.
  const grouping = Object.entries(groupingLabels(pb, alert)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `incident:${pb.name}:${shortHash(grouping)}`;
}

export function targetOf(pb: Playbook, alert: Alert): string {
  const fallback = Object.values(groupingLabels(pb, alert)).filter(Boolean).join('/') || pb.name;
  if (!pb.target) return fallback;
  const rendered = render(pb.target, {
    incident: { id: '', workflowId: '' },
    labels: alert.labels,
    annotations: alert.annotations,
    target: '',
  });
  // A template whose labels are missing must not make unrelated incidents share one lock.
  return rendered.trim() === '' ? fallback : rendered;
}
