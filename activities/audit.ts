// The audit sink: every incident timeline entry becomes one row of the tamper-evident audit log
// (src/audit/log.ts) with who / what / why / target / before / after / time derived from the
// entry's kind and data. Idempotent per (incident id, seq): a retried publish writes nothing twice.
// Keyed (src/audit/key.ts), each row is HMAC-chained; signed checkpoints anchor the chain outside.
import type { Database } from 'better-sqlite3';
import type { Checkpointer } from '../src/audit/checkpoint.js';
import type { AuditKey } from '../src/audit/key.js';
import { auditLog, type AuditRecord } from '../src/audit/log.js';
import { groupOf, unreachable, type IncidentStatus, type PublishInput, type TimelineEntry } from '../workflows/contracts.js';
import type { IncidentSink } from '../src/sinks/sink.js';

type Fields = Pick<AuditRecord, 'who' | 'what' | 'why' | 'before' | 'after'>;

const blockingReasons = (decisions: { outcome: string; reason: string }[]): string =>
  decisions.filter((d) => d.outcome !== 'pass').map((d) => d.reason).join('; ');

/** Who/what/why/before/after for one timeline entry, from its kind and typed data. */
export function auditFields(e: TimelineEntry, incident: IncidentStatus): Fields {
  const base: Fields = { who: 'medic', what: e.message, why: '', before: '', after: '' };
  const playbook = `playbook ${incident.playbook}`;
  switch (e.kind) {
    case 'alert.opened':
      return { ...base, who: `alert source: ${e.data.detection.source}`, after: 'firing' };
    case 'alert.received':
      return { ...base, who: `alert source: ${e.data.source ?? 'intake'}`, after: e.data.status ?? 'firing' };
    case 'gate.passed':
      return { ...base, before: 'pending', after: 'allowed' };
    case 'gate.held':
      return { ...base, why: blockingReasons(e.data.decisions), before: 'pending', after: 'held' };
    case 'gate.blocked':
      return { ...base, why: blockingReasons(e.data.decisions), before: 'pending', after: 'blocked' };
    case 'gate.demoted':
      return { ...base, why: e.data.demotion?.reason ?? '', before: 'pending', after: 'held' };
    case 'gate.policy': {
      // The rule, the policy's content hash, the outcome and its reasons, for the record.
      const v = e.data.policy;
      const after = { allow: 'allowed', deny: 'denied', require_approval: 'approval required' }[v.outcome];
      const by = v.approvers.length > 0 ? ` by ${v.approvers.join(', ')}` : '';
      return { ...base, who: `policy ${v.decision} (${v.backend}${v.hash ? `, sha256 ${v.hash}` : ''})`, why: [...v.reasons, ...(v.error ? [v.error.rule] : [])].join('; '), before: 'pending', after: `${after}${by}` };
    }
    case 'gate.playbookRefused':
      return { ...base, why: 'the playbook is not one this worker loaded', before: 'pending', after: 'blocked' };
    case 'lock.waiting':
    case 'lock.acquired':
      return base;
    case 'approval.requested':
      return { ...base, why: 'the step requires approval', before: 'pending', after: 'awaiting approval' };
    case 'approval.partial': {
      const p = e.data.partial;
      return { ...base, who: p.by, why: 'four-eyes: another, different approver must approve too', before: 'awaiting approval', after: `${p.approvals.length} of ${p.needed} approvals` };
    }
    case 'approval.decided':
      return { ...base, who: e.data.by, why: e.data.reason ?? '', before: 'awaiting approval', after: e.data.decision === 'approve' ? 'approved' : 'denied' };
    case 'approval.expired':
      return { ...base, why: 'nobody decided before the request expired', before: 'awaiting approval', after: 'expired' };
    case 'action.started':
      return { ...base, why: playbook, before: 'not started', after: 'started' };
    case 'action.succeeded':
    case 'action.failed': {
      const status = e.data.httpStatus !== undefined ? ` (HTTP ${e.data.httpStatus})` : '';
      return { ...base, why: playbook, before: 'started', after: `${e.kind === 'action.failed' ? 'failed' : 'succeeded'}${status}` };
    }
    case 'action.hosts': {
      const by = (st: string) => e.data.hosts.filter((h) => h.status === st).length;
      return { ...base, why: playbook, before: 'started', after: `${e.data.check ? 'check: ' : ''}${e.data.hosts.length} host(s): ${by('changed')} changed, ${by('ok')} ok, ${by('already-applied')} already applied, ${by('failed')} failed, ${by('unreachable')} unreachable` };
    }
    case 'action.retrying':
      return { ...base, why: e.data.reason, after: 'trying again' };
    case 'action.movedOn':
      return { ...base, why: e.data.reason, after: 'next step' };
    case 'verification.passed':
      return { ...base, after: 'healthy' };
    case 'verification.probeFailed':
    case 'verification.failed':
      return { ...base, after: 'unhealthy' };
    case 'verification.started':
    case 'verification.skipped':
      return { ...base, after: 'checking' };
    case 'escalation.taken':
      return { ...base, who: e.data.take.by, why: 'took the incident from Slack', before: 'escalated', after: 'taken' };
    case 'escalation.started':
    case 'escalation.overflow':
    case 'escalation.ladder':
    case 'escalation.handedOver':
    case 'escalation.notified':
    case 'escalation.webhookRefused':
    case 'escalation.webhookFailed':
    case 'escalation.takeRequested':
    case 'escalation.takeMissed':
    case 'page.sending':
    case 'page.accepted':
    case 'page.failed':
    case 'page.resolving':
    case 'page.resolved':
    case 'page.resolveFailed':
      return { ...base, why: incident.escalationReason ?? '', after: 'escalated' };
    case 'resolution':
      return { ...base, why: incident.outcome ?? '', before: 'open', after: e.data.status };
    case 'control.forged': {
      // An Update whose identity medic's app did not sign (workflows/identity.ts): refused.
      const f = e.data.forged;
      return { ...base, who: `unverified claim: ${f.user}`, why: f.reason, before: 'unchanged', after: `refused (forged ${f.kind})` };
    }
    case 'control.resolvedByHand':
      return { ...base, who: e.data.resolvedBy.by, why: e.data.resolvedBy.reason ?? '', before: 'open', after: 'resolved by a person' };
    case 'control.killSwitch': {
      const paused = e.data.paused;
      return { ...base, who: e.data.by ?? 'unknown', why: e.data.reason ?? '', before: paused ? 'running' : 'paused', after: paused ? 'paused' : 'running' };
    }
    case 'gate.skipped':
      return { ...base, why: `when ${e.data.when}: ${e.data.seen}`, before: 'pending', after: 'skipped' };
    case 'control.snoozed':
      return { ...base, who: e.data.silence.by, why: `snoozed the alerts until ${new Date(e.data.silence.until).toISOString()}`, before: 'notifying', after: `silenced (${e.data.silence.id})` };
    case 'control.silenced':
      return { ...base, who: 'medic', before: e.data.silence.extended ? 'silenced' : 'notifying', after: `silenced until ${new Date(e.data.silence.until).toISOString()} (${e.data.silence.id})` };
    case 'control.silenceExpired':
      return { ...base, after: 'notifying' };
    case 'alert.similar':
    case 'control.silenceFailed':
    case 'control.graphRefused':
    case 'control.drillReport':
    case 'control.evidence':
      return base;
    default:
      return unreachable(e);
  }
}

export function auditRecordsOf(input: PublishInput): AuditRecord[] {
  const inc = input.incident;
  return input.entries.map((e) => ({
    at: new Date(e.at).toISOString(),
    incidentId: inc.incidentId,
    seq: e.seq,
    // The audit log keeps the nine groups its readers filter on (as in logs written before typed
    // entries); the entry's typed kind is in data.kind.
    kind: groupOf(e.kind),
    target: inc.target,
    ...auditFields(e, inc),
    data: { workflowId: inc.workflowId, playbook: inc.playbook, kind: e.kind, message: e.message, ...(e.step !== undefined ? { step: e.step } : {}), data: e.data },
  }));
}

/**
 * The sink over one audit database. With a key the entries are HMAC-chained; with a checkpointer
 * a signed checkpoint follows every `everyEntries` appends (written in the background).
 */
export function createAuditSink(db: Database, opts: { key?: AuditKey | undefined; checkpointer?: Checkpointer | undefined } = {}): IncidentSink {
  const log = auditLog(db, { key: opts.key });
  return {
    name: 'audit',
    async publish(input) {
      if (log.append(auditRecordsOf(input)) > 0) opts.checkpointer?.afterAppend();
    },
  };
}
