// Silences in the decision core: medic silences the incident's alerts in Alertmanager while it
// acts and verifies (extended while that goes on), and expires the silence when the incident
// resolves or escalates, so whoever is paged sees the alert again. A person's Snooze is a
// separate silence of its own length, kept until it ends. Commands only: the workflow runs them
// as activities (activities/alertmanager.ts), `medic simulate` shows them.
import { toMs } from '../playbooks/duration.js';
import type { Playbook } from '../playbooks/schema.js';
import { entry } from '../../workflows/contracts-timeline.js';
import type { Alert, SnoozeInput } from '../../workflows/contracts.js';
import type { Run } from './run.js';
import type { IncidentEvent } from './types.js';
import { silenceMatchers, type MatcherResult } from '../playbooks/silence-matchers.js';

/** The grouping labels (as src/playbooks/match.ts groups, without its hashing). */
export function groupingOf(pb: Pick<Playbook, 'groupBy'>, alert: Alert): Record<string, string> {
  const labels: Record<string, string> = { ...alert.labels, alertname: alert.alertname };
  return Object.fromEntries(pb.groupBy.map((k) => [k, labels[k] ?? '']));
}

const matchersOf = (r: Run): MatcherResult => silenceMatchers(groupingOf(r.env.playbook, r.env.alert));
const commentOf = (r: Run, what: string): string => `${what} ${r.env.incidentId} (${r.env.playbook.name} on ${r.env.target})`;

/** While acting or verifying: silence (first time) or extend once half the silence has passed. */
export function keepSilenced(r: Run): void {
  const cfg = r.env.playbook.silence;
  if (!cfg) return;
  const { s } = r;
  const ms = toMs(cfg.duration);
  const cur = s.silence;
  if (cur?.refused) return;
  if (cur?.active && cur.until - r.at > ms / 2) return;
  const m = matchersOf(r);
  if (!m.ok) {
    s.silence = { active: false, until: 0, refused: m.reason };
    return r.note(entry.silenceFailed({ message: `not silencing the alerts: ${m.reason}`, data: { silence: { purpose: 'medic', error: m.reason } } }));
  }
  s.silence = { ...(cur?.id ? { id: cur.id } : {}), active: true, until: r.at + ms };
  r.emit({ kind: 'silence', purpose: 'medic', matchers: m.matchers, endsAt: r.at + ms, createdBy: 'medic', comment: commentOf(r, 'medic is healing incident') });
}

/** The incident resolved or escalates: medic's own silence ends now. */
export function endSilence(r: Run): void {
  const cur = r.s.silence;
  if (!cur?.active) return;
  cur.active = false;
  r.emit({ kind: 'unsilence', purpose: 'medic' });
}

export function onSilenced(r: Run, e: Extract<IncidentEvent, { kind: 'silenced' }>): void {
  const { s } = r;
  if (e.purpose === 'snooze') {
    const sn = s.snooze;
    if (!sn) return;
    if (e.ok) {
      sn.id = e.id;
      return r.note(entry.snoozed({ message: `${sn.by} snoozed the alerts for ${sn.duration} (silence ${e.id}, until ${new Date(sn.until).toISOString()})`, data: { silence: { purpose: 'snooze', id: e.id, until: sn.until, by: sn.by } } }));
    }
    return r.note(entry.silenceFailed({ message: `snooze by ${sn.by} failed: ${e.error}`, data: { silence: { purpose: 'snooze', error: e.error } } }));
  }
  const cur = s.silence;
  if (!cur) return;
  if (!e.ok) {
    return r.note(entry.silenceFailed({ message: `silencing the alerts in Alertmanager failed (medic goes on): ${e.error}`, data: { silence: { purpose: 'medic', error: e.error } } }));
  }
  const first = cur.id === undefined;
  cur.id = e.id;
  const until = new Date(e.endsAt).toISOString();
  r.note(
    entry.silenced({
      message: first ? `silenced the incident's alerts in Alertmanager until ${until} (silence ${e.id}) while medic acts and verifies` : `silence ${e.id} extended until ${until}`,
      data: { silence: { purpose: 'medic', id: e.id, until: e.endsAt, extended: !first } },
    }),
  );
}

export function onUnsilenced(r: Run, e: Extract<IncidentEvent, { kind: 'unsilenced' }>): void {
  if (e.ok) {
    if (e.expired.length > 0) r.note(entry.silenceExpired({ message: `expired silence ${e.expired.join(', ')}: the alerts notify again`, data: { silence: { purpose: e.purpose, expired: e.expired } } }));
    return;
  }
  r.note(entry.silenceFailed({ message: `expiring the silence failed: ${e.error ?? 'unknown error'}; it ends by itself at its end time`, data: { silence: { purpose: e.purpose, error: e.error ?? 'unknown error' } } }));
}

/** Who may snooze: whoever may approve one of the playbook's steps (or a demoted one). */
export const snoozeApproversOf = (pb: Pick<Playbook, 'steps'> & Partial<Pick<Playbook, 'demotionApprovers'>>): string[] => [...new Set([...pb.steps.flatMap((st) => st.approvers), ...(pb.demotionApprovers ?? [])])];

/** Why a snooze must be refused, or undefined. Approver policy: whoever may approve a step. */
export function refuseSnooze(pb: Playbook, ended: boolean, sn: SnoozeInput): string | undefined {
  if (ended) return 'the incident has ended';
  if (!pb.silence) return `playbook ${pb.name} offers no snooze (it has no \`silence\` settings)`;
  const choices = pb.silence.snooze;
  if (!choices.includes(sn.duration)) return `snooze for ${sn.duration} is not offered; choices: ${choices.join(', ')}`;
  const approvers = new Set(snoozeApproversOf(pb));
  if (!approvers.has(sn.user) && !(sn.via !== undefined && approvers.has(sn.via))) {
    return `${sn.user} may not snooze this incident; allowed: whoever may approve its steps (${[...approvers].join(', ') || 'nobody'})`;
  }
  return undefined;
}

export function onSnooze(r: Run, sn: SnoozeInput): void {
  const m = matchersOf(r);
  if (!m.ok) return r.emit({ kind: 'refuse', reason: m.reason });
  const until = r.at + toMs(sn.duration);
  r.s.snooze = { by: sn.user, duration: sn.duration, until };
  r.emit({ kind: 'silence', purpose: 'snooze', matchers: m.matchers, endsAt: until, createdBy: sn.user, comment: commentOf(r, `${sn.user} snoozed incident`) });
  r.emit({ kind: 'answer', value: { by: sn.user, until } });
}
