// What medic tells PagerDuty when it pages: built here, inside the workflow, from the incident's
// own state (pure and deterministic), so the timeline records exactly what is sent. The routing
// key is not part of it: the activity resolves it from a secret, so it never enters history.
import type { IncidentState, RunningIncidentInput } from './contracts.js';
import { groupOf, type EntryOf, type TimelineEntry } from './contracts-timeline.js';
import { describeScope, scopeOf, type Scope } from '../src/incident/scope.js';
import { pageEvidence } from '../src/evidence/page.js';

export type PdSeverity = 'critical' | 'error' | 'warning' | 'info';

export interface PageContent {
  /** = the incident id, so a re-escalation updates the same PagerDuty alert. */
  dedupKey: string;
  summary: string;
  severity: PdSeverity;
  source: string;
  component?: string;
  group?: string;
  class?: string;
  timestamp: string;
  customDetails: Record<string, unknown>;
  links: { href: string; text: string }[];
}

export const MAX_SUMMARY = 1024;
export const MAX_DEDUP_KEY = 255;
const EXCERPT = 500;

const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** Alert severities as monitoring systems spell them → PagerDuty's four. */
export function pdSeverity(severity: string): PdSeverity {
  const s = severity.toLowerCase();
  if (['critical', 'crit', 'fatal', 'emergency', 'page', 'p1'].includes(s)) return 'critical';
  if (['warning', 'warn', 'medium', 'p3'].includes(s)) return 'warning';
  if (['info', 'informational', 'low', 'none', 'notice', 'p4', 'p5'].includes(s)) return 'info';
  return 'error'; // error, high, major, p2 and anything unknown: a page should not be downplayed
}

const iso = (ms: number): string => new Date(ms).toISOString();

function actionsTried(timeline: TimelineEntry[], input: RunningIncidentInput): Record<string, unknown>[] {
  const tried = (e: EntryOf<'action.succeeded' | 'action.failed'>, result: string, excerpt: unknown): Record<string, unknown> => ({
    at: iso(e.at),
    step: input.playbook.steps[e.step]?.name ?? `step ${e.step + 1}`,
    result,
    message: e.message,
    ...(e.data.httpStatus !== undefined ? { http_status: e.data.httpStatus } : {}),
    ...(typeof excerpt === 'string' && excerpt !== '' ? { output_excerpt: clip(excerpt, EXCERPT) } : {}),
  });
  return timeline.flatMap((e) => {
    switch (e.kind) {
      case 'action.succeeded':
        return [tried(e, e.data.dryRun ? 'dry run' : 'succeeded', e.data.output.bodyExcerpt)];
      case 'action.failed':
        return [tried(e, 'failed', e.data.details?.bodyExcerpt)];
      default:
        return [];
    }
  });
}

/** The gates, locks and approvals that held or stopped a step. */
function blocked(e: TimelineEntry): boolean {
  switch (e.kind) {
    case 'gate.held':
    case 'gate.blocked':
    case 'gate.demoted':
    case 'gate.playbookRefused':
    case 'lock.waiting':
    case 'approval.expired':
      return true;
    case 'approval.decided':
      return e.data.decision === 'deny';
    case 'gate.policy':
      return e.data.policy.outcome !== 'allow';
    default:
      return false;
  }
}

function gatesThatBlocked(timeline: TimelineEntry[]): Record<string, unknown>[] {
  return timeline.filter(blocked).map((e) => {
    const decisions = e.kind === 'gate.held' || e.kind === 'gate.blocked' ? e.data.decisions : [];
    const blocking = decisions.filter((d) => d.outcome !== 'pass').map((d) => ({ gate: d.gate, outcome: d.outcome, reason: d.reason }));
    return { at: iso(e.at), message: e.message, ...(blocking.length > 0 ? { decisions: blocking } : {}) };
  });
}

/** The incident's true scope for the page: alerts and distinct targets, left-out alerts included. */
function scopeDetails(sc: Scope): Record<string, unknown> {
  return {
    summary: describeScope(sc),
    alerts: sc.alerts,
    ...(sc.truncated > 0 ? { alerts_left_out_by_alertmanager: sc.truncated } : {}),
    ...(sc.targets ? { targets_seen: sc.targets.seen, targets_at_most: sc.targets.atMost } : {}),
  };
}

export interface PageContext {
  workflowId: string;
  namespace: string;
  temporalUiUrl?: string;
}

export function buildPage(s: IncidentState, input: RunningIncidentInput, c: PageContext, now: number): PageContent {
  const alert = input.alert;
  const labels = alert.labels;
  const reason = s.escalationReason ?? 'escalated';
  const links: PageContent['links'] = [];
  const slack = s.sinkRefs.slack?.permalink;
  if (slack) links.push({ href: slack, text: 'Slack incident thread' });
  if (c.temporalUiUrl) {
    links.push({
      href: `${c.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(c.namespace)}/workflows/${encodeURIComponent(c.workflowId)}`,
      text: 'Temporal workflow (full history)',
    });
  }
  if (input.playbook.runbookUrl) links.push({ href: input.playbook.runbookUrl, text: `Runbook (${input.playbook.name})` });
  const verification = s.timeline.filter((e) => groupOf(e.kind) === 'verification').map((e) => ({ at: iso(e.at), message: e.message }));
  const details: Record<string, unknown> = {
    incident_id: s.incidentId,
    playbook: input.playbook.name,
    escalation_reason: reason,
    opened_at: iso(s.startedAt),
    alerts_received: s.alertsReceived,
    scope: scopeDetails(scopeOf(s, input.playbook)),
    triggering_signal: {
      alertname: alert.alertname,
      severity: alert.severity,
      status: alert.status,
      source: alert.source,
      starts_at: alert.startsAt,
      labels: alert.labels,
      annotations: alert.annotations,
    },
    ...(s.alertsReceived > 1 ? { latest_signal: { status: s.lastAlert.status, labels: s.lastAlert.labels, severity: s.lastAlert.severity } } : {}),
    actions_tried: actionsTried(s.timeline, input),
    verification,
    gates_blocked: gatesThatBlocked(s.timeline),
    ...(s.timelineDropped > 0 ? { timeline_entries_not_shown: s.timelineDropped } : {}),
  };
  return {
    dedupKey: s.incidentId.length <= MAX_DEDUP_KEY ? s.incidentId : s.incidentId.slice(-MAX_DEDUP_KEY),
    summary: clip(`[medic] ${alert.alertname} on ${input.target}: ${reason}`, MAX_SUMMARY),
    severity: pdSeverity(alert.severity),
    source: input.target,
    component: labels.service ?? labels.job ?? input.target,
    group: labels.namespace ?? labels.cluster ?? input.playbook.name,
    class: alert.alertname,
    timestamp: iso(now),
    // The evidence goes last, cut to what the rest leaves of Events v2's 512 KB.
    customDetails: { ...details, ...pageEvidence(s.timeline, details) },
    links,
  };
}
