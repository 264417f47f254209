// The audit sink: every incident timeline entry becomes one row of the tamper-evident audit log
// (src/audit/log.ts) with who / what / why / target / before / after / time derived from the
// entry's kind and data. Idempotent per (incident id, seq): a retried publish writes nothing twice.
// Keyed (src/audit/key.ts), each row is HMAC-chained; signed checkpoints anchor the chain outside.
import type { Database } from 'better-sqlite3';
import type { Checkpointer } from '../src/audit/checkpoint.js';
import type { AuditKey } from '../src/audit/key.js';
import { auditLog, type AuditRecord } from '../src/audit/log.js';
import type { IncidentStatus, PublishInput, TimelineEntry } from '../workflows/contracts.js';
import type { IncidentSink } from './publish.js';

type Fields = Pick<AuditRecord, 'who' | 'what' | 'why' | 'before' | 'after'>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function blockingReasons(e: TimelineEntry): string {
  const decisions = (e.data?.decisions as { outcome: string; reason: string }[] | undefined) ?? [];
  return decisions.filter((d) => d.outcome !== 'pass').map((d) => d.reason).join('; ');
}

/** Who/what/why/before/after for one timeline entry. */
export function auditFields(e: TimelineEntry, incident: IncidentStatus): Fields {
  const d = e.data ?? {};
  const base: Fields = { who: 'medic', what: e.message, why: '', before: '', after: '' };
  switch (e.kind) {
    case 'alert':
      return { ...base, who: `alert source: ${/ from (\S+)$/.exec(e.message)?.[1] ?? 'intake'}`, after: /\b(firing|resolved)\b/.exec(e.message)?.[1] ?? 'firing' };
    case 'gate': {
      const passed = e.message.startsWith('gates passed');
      return { ...base, why: passed ? '' : blockingReasons(e), before: 'pending', after: passed ? 'allowed' : e.message.includes('blocked') ? 'blocked' : 'held' };
    }
    case 'approval': {
      const partial = d.partial as { by?: string; approvals?: string[]; needed?: number } | undefined;
      if (partial) {
        return { ...base, who: partial.by ?? 'unknown', why: 'four-eyes: another, different approver must approve too', before: 'awaiting approval', after: `${partial.approvals?.length ?? 1} of ${partial.needed ?? 2} approvals` };
      }
      const decision = str(d.decision);
      if (decision) return { ...base, who: str(d.by) || 'unknown', why: str(d.reason), before: 'awaiting approval', after: decision === 'approve' ? 'approved' : 'denied' };
      if (e.message.includes('expired')) return { ...base, why: 'nobody decided before the request expired', before: 'awaiting approval', after: 'expired' };
      return { ...base, why: 'the step requires approval', before: 'pending', after: 'awaiting approval' };
    }
    case 'action': {
      if (d.idempotencyKey !== undefined) return { ...base, why: `playbook ${incident.playbook}`, before: 'not started', after: 'started' };
      const failed = d.failed === true || / failed: /.test(e.message);
      const status = typeof d.status === 'number' ? ` (HTTP ${d.status})` : '';
      return { ...base, why: `playbook ${incident.playbook}`, before: 'started', after: `${failed ? 'failed' : 'succeeded'}${status}` };
    }
    case 'verification':
      return { ...base, after: /^verified/.test(e.message) ? 'healthy' : /failed/.test(e.message) ? 'unhealthy' : 'checking' };
    case 'escalation': {
      const take = (d.take ?? {}) as { outcome?: string; by?: string };
      if (take.outcome === 'taken') return { ...base, who: take.by ?? 'unknown', why: 'took the incident from Slack', before: 'escalated', after: 'taken' };
      return { ...base, why: incident.escalationReason ?? '', after: 'escalated' };
    }
    case 'resolution':
      return { ...base, why: incident.outcome ?? '', before: 'open', after: e.message.startsWith('resolved') ? 'resolved' : 'escalated' };
    case 'control': {
      // An Update whose identity medic's app did not sign (workflows/identity.ts): refused.
      const forged = d.forged as { kind?: string; user?: string; reason?: string } | undefined;
      if (forged) return { ...base, who: `unverified claim: ${forged.user ?? '?'}`, why: forged.reason ?? '', before: 'unchanged', after: `refused (forged ${forged.kind ?? 'update'})` };
      const human = d.resolvedBy as { by?: string; reason?: string } | undefined;
      if (human) return { ...base, who: human.by ?? 'unknown', why: human.reason ?? '', before: 'open', after: 'resolved by a person' };
      const paused = typeof d.paused === 'boolean' ? d.paused : e.message.includes(' ON ');
      return { ...base, who: str(d.by) || (/ by (\S+)/.exec(e.message)?.[1] ?? 'unknown'), why: str(d.reason), before: paused ? 'running' : 'paused', after: paused ? 'paused' : 'running' };
    }
    default:
      return base;
  }
}

export function auditRecordsOf(input: PublishInput): AuditRecord[] {
  const inc = input.incident;
  return input.entries.map((e) => ({
    at: new Date(e.at).toISOString(),
    incidentId: inc.incidentId,
    seq: e.seq,
    kind: e.kind,
    target: inc.target,
    ...auditFields(e, inc),
    data: { workflowId: inc.workflowId, playbook: inc.playbook, message: e.message, ...(e.step !== undefined ? { step: e.step } : {}), ...(e.data ? { data: e.data } : {}) },
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
