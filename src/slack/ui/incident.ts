// Block Kit for an incident's root message and its thread entries. Pure functions: what a
// message looks like is decided here, and snapshot-tested, never inside a Slack call.
import { groupOf, type IncidentStatus, type IncidentStatusName, type TimelineEntry, type TimelineGroup } from '../../../workflows/contracts.js';
import { esc } from './escape.js';
import { rootExtras, type Routine } from './incident-context.js';

/** A Block Kit block; the stand-in (and Slack) check the details. */
export type UiBlock = { type: string; block_id?: string; [k: string]: unknown };

export interface SlackMessage {
  /** Fallback text for notifications and screen readers; Slack wants it alongside blocks. */
  text: string;
  blocks: UiBlock[];
}

const STATUS: Record<IncidentStatusName, string> = {
  open: ':large_yellow_circle: Open',
  holding: ':double_vertical_bar: Holding',
  awaiting_approval: ':raised_hand: Awaiting approval',
  acting: ':hammer_and_wrench: Acting',
  verifying: ':mag: Verifying',
  resolved: ':white_check_mark: Resolved',
  escalated: ':rotating_light: Escalated',
  acknowledged: ':raising_hand: Taken',
};
const SEVERITY: Record<string, string> = { critical: ':red_circle:', warning: ':large_orange_circle:', info: ':large_blue_circle:' };
const KIND: Record<TimelineGroup, string> = {
  alert: ':bell:',
  gate: ':vertical_traffic_light:',
  lock: ':lock:',
  approval: ':raised_hand:',
  action: ':hammer_and_wrench:',
  verification: ':mag:',
  escalation: ':rotating_light:',
  resolution: ':checkered_flag:',
  control: ':control_knobs:',
};

export const statusLabel = (s: IncidentStatusName): string => STATUS[s] ?? s;

const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
/** HH:MM in UTC: the thread is read across time zones, and the audit log is in UTC too. */
export const hhmm = (at: number): string => new Date(at).toISOString().slice(11, 16);

export function temporalLink(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export function incidentRoot(i: IncidentStatus, o: { temporalUrl?: string; routine?: Routine } = {}): SlackMessage {
  const title = `${i.alertname} on ${i.target}`;
  const fields = [
    `*Status*\n${statusLabel(i.status)}`,
    `*Severity*\n${SEVERITY[i.severity] ?? ':white_circle:'} ${esc(i.severity)}`,
    `*Service*\n${esc(i.service || '—')}`,
    `*Target*\n${esc(i.target)}`,
    `*Playbook*\n${esc(i.playbook)}${i.stepName ? ` · ${esc(i.stepName)}` : ''}`,
    `*Incident*\n\`${esc(i.incidentId)}\``,
  ];
  const context = [`opened ${hhmm(i.startedAt)} UTC`];
  if (i.endedAt) context.push(`ended ${hhmm(i.endedAt)} UTC`);
  if (o.temporalUrl) context.push(`<${o.temporalUrl}|Temporal UI>`);
  if (i.runbookUrl && /^https?:\/\//.test(i.runbookUrl)) context.push(`<${i.runbookUrl}|Runbook>`);
  const blocks: UiBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(title, 150), emoji: true } },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  if (i.summary) blocks.push({ type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: clip(`*Summary:* ${esc(i.summary)}`, 3000) } });
  if (i.outcome) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Outcome:* ${esc(i.outcome)}`, 3000) } });
  blocks.push(...rootExtras(i, o.routine)); // scope, silences, routine steps, similar incidents
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] });
  // The fallback text is parsed like mrkdwn (notifications, screen readers): escaped as well.
  return { text: `${statusLabel(i.status).replace(/^:[a-z_]+: /, '')}: ${esc(title)} (${esc(i.severity)})`, blocks };
}

export const entryLine = (e: TimelineEntry): string => `${KIND[groupOf(e.kind)]} \`${hhmm(e.at)}\` ${esc(e.message)}`;

const MAX_SECTION = 2900;
const MAX_SECTIONS = 45;

/**
 * Thread messages for timeline entries, coalesced: lines are packed into sections (each under
 * Slack's 3000-character limit) and sections into messages (under 50 blocks), so a burst of
 * entries costs a few posts instead of one each. Returns each message with the last seq it holds.
 */
export function timelineMessages(entries: TimelineEntry[]): (SlackMessage & { lastSeq: number })[] {
  const out: (SlackMessage & { lastSeq: number })[] = [];
  let sections: string[] = [];
  let current = '';
  let lastSeq = -1;
  let firstLine = '';
  const closeMessage = (): void => {
    if (current) sections.push(current);
    current = '';
    if (sections.length === 0) return;
    const more = sections.join('\n').split('\n').length - 1;
    out.push({
      text: clip(`${esc(firstLine)}${more > 0 ? ` (+${more} more)` : ''}`, 3000),
      blocks: sections.map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } })),
      lastSeq,
    });
    sections = [];
    firstLine = '';
  };
  for (const e of entries) {
    const line = clip(entryLine(e), MAX_SECTION);
    if (current && current.length + 1 + line.length > MAX_SECTION) {
      sections.push(current);
      current = '';
      if (sections.length >= MAX_SECTIONS) closeMessage();
    }
    current = current ? `${current}\n${line}` : line;
    firstLine ||= e.message;
    lastSeq = e.seq;
  }
  closeMessage();
  return out;
}
