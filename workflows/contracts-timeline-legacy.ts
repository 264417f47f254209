// The one-time mapping from timeline entries written before the typed union (nine coarse kinds,
// untyped `data`) to typed entries. Old store rows are rewritten with it once (migration 6, in
// src/store/migrations.ts); audit logs and workflow state carried across continue-as-new are read
// through it. Only this module looks at an old entry's wording, and only where its data did not
// say (plain string prefixes of messages medic itself wrote); new code never reads messages.
import { parseTimelineEntry, TimelineEntryError, type TimelineEntry } from './contracts-timeline.js';

export const LEGACY_KINDS = ['alert', 'gate', 'lock', 'approval', 'action', 'verification', 'escalation', 'resolution', 'control'] as const;
export type LegacyKind = (typeof LEGACY_KINDS)[number];

/** An entry as stored before the typed union. */
export interface LegacyEntry {
  seq: number;
  at: number;
  kind: LegacyKind;
  message: string;
  step?: number;
  data?: Record<string, unknown>;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const after = (s: string, marker: string): string | undefined => {
  const i = s.indexOf(marker);
  return i < 0 ? undefined : s.slice(i + marker.length);
};
const before = (s: string, marker: string): string => {
  const i = s.indexOf(marker);
  return i < 0 ? s : s.slice(0, i);
};
/** "step 3/4 (name)…" → 2 (0-based); undefined when the text does not start so. */
const stepIndexIn = (s: string | undefined): number | undefined => {
  if (!s?.startsWith('step ')) return undefined;
  const n = Number.parseInt(s.slice(5), 10);
  return Number.isInteger(n) && n >= 1 ? n - 1 : undefined;
};
/** The action kind an old start row's description names (rows from before data.action). */
function actionOfDescription(message: string): string {
  const what = after(message, ' started: ') ?? after(message, ' dry run: ') ?? '';
  if (['GET ', 'POST ', 'PUT ', 'PATCH ', 'DELETE '].some((m) => what.startsWith(m))) return 'http';
  if (what.startsWith('SSM Run Command')) return 'ssm-command';
  if (what.startsWith('SSM Automation')) return 'ssm-automation';
  return 'unknown';
}
const httpStatus = (d: Record<string, unknown>): { httpStatus?: number } =>
  typeof d.status === 'number' && Number.isInteger(d.status) ? { httpStatus: d.status } : {};

/** True for an entry in the pre-union shape (its kind is one of the nine, and not a typed resolution). */
export function isLegacyEntry(raw: unknown): raw is LegacyEntry {
  if (!isObj(raw) || typeof raw.kind !== 'string' || !(LEGACY_KINDS as readonly string[]).includes(raw.kind)) return false;
  return raw.kind !== 'resolution' || raw.data === undefined || raw.data === null;
}

type Typed = { kind: string; data: Record<string, unknown>; step?: number };

function typedOf(e: LegacyEntry): Typed {
  const d = e.data ?? {};
  const m = e.message;
  switch (e.kind) {
    case 'alert': {
      if (isObj(d.detection)) return { kind: 'alert.opened', data: { detection: d.detection } };
      const status = m.split(' ')[1];
      const source = after(m, ' from ')?.split(' ')[0];
      return {
        kind: 'alert.received',
        data: { labels: isObj(d.labels) ? d.labels : {}, ...(status === 'firing' || status === 'resolved' ? { status } : {}), ...(source ? { source } : {}) },
      };
    }
    case 'gate':
      if (isObj(d.playbook)) return { kind: 'gate.playbookRefused', data: { playbook: d.playbook } };
      if ('demotion' in d) return { kind: 'gate.demoted', data: isObj(d.demotion) ? { demotion: d.demotion } : {} };
      if (m.startsWith('gates passed')) return { kind: 'gate.passed', data: { decisions: d.decisions ?? [] } };
      if (m.startsWith('holding ')) return { kind: 'gate.held', data: { decisions: d.decisions ?? [] } };
      return { kind: 'gate.blocked', data: { decisions: d.decisions ?? [], ...(isObj(d.refusal) ? { refusal: d.refusal } : {}) } };
    case 'lock':
      if (m.includes(' is already being healed by ')) {
        return { kind: 'lock.waiting', data: { target: before(m, ' is already being healed by '), holder: before(after(m, ' is already being healed by ') ?? '', '; waiting') } };
      }
      return { kind: 'lock.acquired', data: { target: before(after(m, 'lock on ') ?? m, ' acquired') } };
    case 'approval':
      if (isObj(d.request)) return { kind: 'approval.requested', data: { request: d.request } };
      if (isObj(d.partial)) return { kind: 'approval.partial', data: { partial: d.partial } };
      if (d.decision === 'approve' || d.decision === 'deny') return { kind: 'approval.decided', data: d };
      return { kind: 'approval.expired', data: {} };
    case 'action': {
      if (typeof d.idempotencyKey === 'string') {
        const dryRun = !m.includes(') started: ') && m.includes(') dry run');
        const label = after(m, '(') ?? '';
        const tryAt = d.idempotencyKey.lastIndexOf(':try-');
        const tried = tryAt < 0 ? 1 : Number.parseInt(d.idempotencyKey.slice(tryAt + 5), 10);
        return {
          kind: 'action.started',
          data: {
            idempotencyKey: d.idempotencyKey,
            stepName: before(label, dryRun ? ') dry run' : ') started') || `step ${(e.step ?? 0) + 1}`,
            try: Number.isInteger(tried) && tried >= 1 ? tried : 1,
            dryRun,
            action: typeof d.action === 'string' ? d.action : actionOfDescription(m),
          },
        };
      }
      if (e.step === undefined) {
        if (m.includes('; trying again (try ')) {
          const t = Number.parseInt(after(m, '; trying again (try ') ?? '', 10);
          return { kind: 'action.retrying', data: { reason: after(before(m, '; trying again'), '): ') ?? m, step: stepIndexIn(m) ?? 0, try: Number.isInteger(t) ? t : 1 } };
        }
        return { kind: 'action.movedOn', data: { reason: before(m, '; moving on to '), step: stepIndexIn(after(m, '; moving on to ')) ?? 0 } };
      }
      const { failed, ...rest } = d;
      if (failed === true || m.includes(' failed: ')) {
        return { kind: 'action.failed', data: { ...httpStatus(rest), ...(Object.keys(rest).length > 0 ? { details: rest } : {}) } };
      }
      return { kind: 'action.succeeded', data: { dryRun: m.includes('dry run'), ...httpStatus(rest), output: rest } };
    }
    case 'verification':
      if (m.startsWith('verifying ')) return { kind: 'verification.started', data: {} };
      if (m.startsWith('dry run')) return { kind: 'verification.skipped', data: {} };
      if (m.startsWith('verified')) return { kind: 'verification.passed', data: {} };
      if (m.startsWith('probe failed')) return { kind: 'verification.probeFailed', data: {} };
      return { kind: 'verification.failed', data: { ...(typeof d.evidence === 'string' ? { evidence: d.evidence } : {}), ...(typeof d.probes === 'number' ? { probes: d.probes } : {}) } };
    case 'escalation': {
      const pd = isObj(d.pagerduty) ? d.pagerduty : undefined;
      if (pd?.event_action === 'trigger') return { kind: 'page.sending', data: { pagerduty: pd } };
      if (pd?.event_action === 'resolve') return { kind: 'page.resolving', data: { pagerduty: pd } };
      if (pd) return { kind: m.startsWith('PagerDuty accepted the resolve') ? 'page.resolved' : 'page.accepted', data: { pagerduty: pd } };
      if (isObj(d.take)) {
        const outcome = d.take.outcome;
        return { kind: outcome === 'taken' ? 'escalation.taken' : outcome === 'missed' ? 'escalation.takeMissed' : 'escalation.takeRequested', data: { take: d.take } };
      }
      if (Array.isArray(d.ladder)) return { kind: 'escalation.ladder', data: { ladder: d.ladder } };
      if (isObj(d.overflow)) return { kind: 'escalation.overflow', data: { overflow: d.overflow } };
      if (isObj(d.refusal)) return { kind: 'escalation.webhookRefused', data: { refusal: d.refusal } };
      if (m.startsWith('PagerDuty page failed')) return { kind: 'page.failed', data: {} };
      if (m.startsWith('PagerDuty resolve failed')) return { kind: 'page.resolveFailed', data: {} };
      if (m.startsWith('handed over to ')) return { kind: 'escalation.handedOver', data: { to: m.slice('handed over to '.length) } };
      if (m.startsWith('notified ')) return { kind: 'escalation.notified', data: {} };
      if (m.startsWith('escalation webhook ')) return { kind: 'escalation.webhookFailed', data: {} };
      return { kind: 'escalation.started', data: { reason: after(m, 'escalating: ') ?? m } };
    }
    case 'resolution': {
      const status = m.startsWith('escalated') ? 'escalated' : 'resolved';
      const outcome = after(m, ': ') ?? m;
      const unverified = outcome.endsWith('succeeded (no verification configured)') ? stepIndexIn(outcome) : undefined;
      return { kind: 'resolution', data: { status, outcome, ...(unverified !== undefined ? { unverifiedStep: unverified } : {}) } };
    }
    case 'control':
      if (isObj(d.forged)) return { kind: 'control.forged', data: { forged: d.forged } };
      if (isObj(d.resolvedBy)) return { kind: 'control.resolvedByHand', data: { resolvedBy: d.resolvedBy } };
      if (isObj(d.drill)) return { kind: 'control.drillReport', data: { drill: d.drill } };
      if (isObj(d.graph)) return { kind: 'control.graphRefused', data: { graph: d.graph } };
      if (typeof d.paused === 'boolean') return { kind: 'control.killSwitch', data: d };
      if (m.startsWith('kill switch ')) {
        const by = after(m, ' by ');
        return { kind: 'control.killSwitch', data: { paused: m.startsWith('kill switch ON'), ...(by && by !== '?' ? { by } : {}) } };
      }
      if (m.startsWith('incident graph refused')) return { kind: 'control.graphRefused', data: { graph: { refused: true } } };
      throw new TimelineEntryError(`cannot upgrade a ${e.kind} entry (seq ${e.seq}) from before typed timelines: its data names no known fact`);
  }
}

/** An old entry as the typed entry it stands for (same seq, time, step and message). */
export function upgradeLegacyEntry(e: LegacyEntry): TimelineEntry {
  const t = typedOf(e);
  return parseTimelineEntry({ seq: e.seq, at: e.at, kind: t.kind, message: e.message, ...(e.step !== undefined && e.step !== null ? { step: e.step } : {}), data: t.data });
}

/** A stored or carried entry, old or new, as a typed entry (or a TimelineEntryError saying why not). */
export const readTimelineEntry = (raw: unknown): TimelineEntry => (isLegacyEntry(raw) ? upgradeLegacyEntry(raw) : parseTimelineEntry(raw));
