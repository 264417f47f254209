// Human-readable renderings of incidents for the terminal (CLI and the embedded demo).
import { groupOf, type IncidentStatus, type TimelineEntry } from '../../workflows/contracts.js';

export interface SummaryRow {
  workflowId: string;
  status: string;
  service: string;
  severity: string;
  startedAt: string;
  runStatus: string;
}

export interface IncidentDetail {
  status: IncidentStatus;
  timeline: TimelineEntry[];
}

const time = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

export function formatEntry(e: TimelineEntry): string {
  return `${time(e.at)}  ${groupOf(e.kind).padEnd(12)} ${e.message}`;
}

export function formatSummary(rows: SummaryRow[]): string {
  if (rows.length === 0) return 'no incidents';
  const lines = rows.map((r) => `${r.workflowId.padEnd(44)} ${r.status.padEnd(18)} ${r.severity.padEnd(9)} ${r.service}  ${r.startedAt}`);
  return [`${'INCIDENT'.padEnd(44)} ${'STATUS'.padEnd(18)} ${'SEVERITY'.padEnd(9)} SERVICE  STARTED`, ...lines].join('\n');
}

export function formatIncident({ status: s, timeline }: IncidentDetail): string {
  const head = [
    `${s.incidentId}  [${s.status}]`,
    `  playbook ${s.playbook} · ${s.alertname} (${s.severity}) · target ${s.target}`,
    `  step ${s.stepIndex + 1}${s.stepName ? ` (${s.stepName})` : ''} · alerts received ${s.alertsReceived}`,
  ];
  if (s.pendingApproval && !s.approval) {
    const p = s.pendingApproval;
    head.push(`  awaiting approval: ${p.what} — approvers ${p.approvers.join(', ')}; expires ${new Date(p.expiresAt).toISOString()}`);
  }
  if (s.ladder) {
    const l = s.ladder;
    const marks = l.rungs.map((r, i) => {
      const mark = s.owner?.rung === i ? 'taken' : l.missed.includes(i) ? 'nobody took it' : i < l.current ? 'done' : i === l.current && s.phase !== 'done' && !s.owner ? (l.waiting ? `waiting until ${new Date(l.waiting.until).toISOString()}` : 'now') : 'not reached';
      return `    ${i + 1}. ${r} — ${mark}`;
    });
    head.push('  escalation ladder:', ...marks);
  }
  if (s.owner) head.push(`  owner: ${s.owner.by}${s.owner.via ? ` (${s.owner.via})` : ''} since ${new Date(s.owner.at).toISOString()}`);
  if (s.resolvedBy) head.push(`  resolved by hand: ${s.resolvedBy.by}${s.resolvedBy.reason ? ` — ${s.resolvedBy.reason}` : ''}`);
  if (s.outcome) head.push(`  outcome: ${s.outcome}`);
  const dropped = s.timelineDropped > 0 ? [`  … ${s.timelineDropped} older entries in the audit log`] : [];
  return [...head, '', ...dropped, ...timeline.map((e) => `  ${formatEntry(e)}`)].join('\n');
}
