// The root message's context beyond status: the incident's true scope, its Alertmanager silences,
// the routine steps a summary/quiet thread keeps out of the thread, and similar past incidents.
// Pure Block Kit builders (src/slack/ui/incident.ts adds them to the root message).
import type { IncidentStatus } from '../../../workflows/contracts.js';
import type { SlackRefs } from '../../../workflows/contracts-sinks.js';
import { describeScope } from '../../incident/scope.js';
import { esc } from './escape.js';
import { similarBlocks } from './similar.js';
import { snoozeBlocks } from './snooze.js';

type UiBlock = { type: string; block_id?: string; [k: string]: unknown };
export type Routine = NonNullable<SlackRefs['routine']>;

const hhmm = (at: number): string => new Date(at).toISOString().slice(11, 16);
const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** Context lines (each its own context element; Slack allows 10 per block). */
function lines(i: IncidentStatus, routine: Routine | undefined): string[] {
  const out: string[] = [];
  const sc = i.coverage;
  if (sc && (sc.alerts > 1 || sc.truncated > 0 || sc.targets)) out.push(`:dart: *Scope:* ${esc(describeScope(sc))}`);
  if (i.silence?.active && i.silence.id) out.push(`:no_bell: alerts silenced in Alertmanager until ${hhmm(i.silence.until)} UTC while medic works`);
  if (i.snooze?.id && i.snooze.until > (i.endedAt ?? i.snooze.until - 1)) out.push(`:zzz: snoozed by ${esc(i.snooze.by)} until ${hhmm(i.snooze.until)} UTC`);
  if (routine && routine.count > 0) {
    out.push(clip(`:card_index_dividers: ${routine.count} routine step${routine.count === 1 ? '' : 's'} kept out of this thread (verbosity ${i.verbosity ?? 'channel'}); latest \`${hhmm(routine.at)}\` ${esc(routine.last)} · full record: \`medic status ${esc(i.workflowId)}\``, 2000));
  }
  return out;
}

export function rootExtras(i: IncidentStatus, routine?: Routine): UiBlock[] {
  const ls = lines(i, routine);
  return [...(ls.length > 0 ? [{ type: 'context', block_id: 'medic_context', elements: ls.map((text) => ({ type: 'mrkdwn', text })) }] : []), ...similarBlocks(i), ...snoozeBlocks(i)];
}

/** What the extras show, so the root message is rewritten when they change ('' when none). */
export function rootExtrasKey(i: IncidentStatus, routine?: Routine): string {
  const blocks = rootExtras(i, routine);
  if (blocks.length === 0) return '';
  // FNV-1a over what they show: a short key kept in the refs.
  const text = JSON.stringify(blocks);
  let h = 0x811c9dc5;
  for (let k = 0; k < text.length; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193) >>> 0;
  return `|${h.toString(36)}`;
}
