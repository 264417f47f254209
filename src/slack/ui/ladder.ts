// Block Kit for escalation in the incident thread: the ladder (every rung, the current one marked,
// with a Resolve button while the incident runs) and a slack-group rung's request mentioning the
// group with a "Take it" button, plus its settled form. Pure functions, snapshot-testable.
import type { IncidentStatus, LadderState } from '../../../workflows/contracts.js';
import { esc } from './escape.js';
import { hhmm, type SlackMessage, type UiBlock } from './incident.js';

export const LADDER_ACTIONS = { take: 'take_incident', resolve: 'resolve_incident' } as const;

/** What a Take it / Resolve button carries: the incident, and for Take it the rung shown. */
export interface LadderRef {
  workflowId: string;
  rung?: number;
}
export const encodeLadderRef = (r: LadderRef): string => JSON.stringify({ w: r.workflowId, ...(r.rung !== undefined ? { r: r.rung } : {}) });
export function decodeLadderRef(value: string | undefined): LadderRef | undefined {
  try {
    const v = JSON.parse(value ?? '') as { w?: unknown; r?: unknown };
    if (typeof v.w !== 'string') return undefined;
    if (v.r !== undefined && !Number.isInteger(v.r)) return undefined;
    return { workflowId: v.w, ...(v.r !== undefined ? { rung: v.r as number } : {}) };
  } catch {
    return undefined;
  }
}

const mention = (user: string): string => (/^[UW][A-Z0-9]+$/.test(user) ? `<@${user}>` : esc(user));

/** A user group as Slack renders a mention of it (members are notified); a handle if the id is unknown. */
export const groupMention = (group: string, id?: string): string => (id ? `<!subteam^${id}>` : esc(group));

export type RungMark = 'done' | 'current' | 'waiting' | 'taken' | 'missed' | 'pending' | 'skipped';
const MARK: Record<RungMark, string> = {
  done: ':white_check_mark:',
  current: ':arrow_forward:',
  waiting: ':hourglass_flowing_sand:',
  taken: ':raising_hand:',
  missed: ':x:',
  pending: ':white_circle:',
  skipped: ':heavy_minus_sign:',
};

/** Each rung's state, from the ladder and whether the incident is over or was taken. */
export function rungMarks(l: LadderState, i: Pick<IncidentStatus, 'owner' | 'phase'>): RungMark[] {
  const over = i.phase === 'done' || i.owner !== undefined;
  return l.rungs.map((_, n) => {
    if (i.owner?.rung === n) return 'taken';
    if (l.missed.includes(n)) return 'missed';
    if (n < l.current) return 'done';
    if (n === l.current && !over) return l.waiting?.rung === n ? 'waiting' : 'current';
    return over ? 'skipped' : 'pending';
  });
}

/** Changes whenever the ladder message must be rewritten. */
export const ladderKey = (i: IncidentStatus): string =>
  i.ladder ? `${rungMarks(i.ladder, i).join(',')}:${i.ladder.dueAt ?? ''}:${i.phase === 'done' ? 'done' : ''}:${i.owner?.by ?? ''}` : '';

export function ladderMessage(i: IncidentStatus): SlackMessage {
  const l = i.ladder;
  if (!l) throw new Error('the incident has no escalation ladder');
  const marks = rungMarks(l, i);
  const lines = l.rungs.map((r, n) => {
    let extra = '';
    if (marks[n] === 'waiting' && l.waiting) extra = ` — waiting until ${hhmm(l.waiting.until)} UTC`;
    else if (marks[n] === 'current' && l.dueAt) extra = ` — fires at ${hhmm(l.dueAt)} UTC`;
    else if (marks[n] === 'taken' && i.owner) extra = ` — taken by ${mention(i.owner.by)} at ${hhmm(i.owner.at)} UTC`;
    else if (marks[n] === 'missed') extra = ' — nobody took it';
    const text = `${MARK[marks[n]!]} ${n + 1}. ${esc(r)}${extra}`;
    return marks[n] === 'current' || marks[n] === 'waiting' ? `*${text}*` : text;
  });
  const blocks: UiBlock[] = [
    { type: 'section', block_id: 'ladder', text: { type: 'mrkdwn', text: `*Escalation ladder*\n${lines.join('\n')}`.slice(0, 3000) } },
  ];
  if (i.phase !== 'done') {
    blocks.push({
      type: 'actions',
      block_id: 'ladder_actions',
      elements: [{ type: 'button', action_id: LADDER_ACTIONS.resolve, text: { type: 'plain_text', text: 'Resolve' }, value: encodeLadderRef({ workflowId: i.workflowId }) }],
    });
  } else if (i.resolvedBy) {
    blocks.push({ type: 'context', block_id: 'ladder_done', elements: [{ type: 'mrkdwn', text: `:white_check_mark: Resolved by ${mention(i.resolvedBy.by)} at ${hhmm(i.resolvedBy.at)} UTC` }] });
  }
  const now = marks.findIndex((m) => m === 'current' || m === 'waiting' || m === 'taken');
  return { text: `Escalation ladder${now >= 0 ? `: rung ${now + 1} of ${l.rungs.length} (${esc(l.rungs[now] ?? '')})` : ''}`, blocks };
}

export interface TakeRequest {
  rung: number;
  group: string;
  since: number;
  until: number;
}
export interface TakeSettled {
  outcome: 'taken' | 'missed' | 'closed';
  by?: string;
  at?: number;
}

/** The request to a group; once settled, the same message without its button. */
export function takeMessage(workflowId: string, r: TakeRequest, mentionText: string, settled?: TakeSettled): SlackMessage {
  const head = `${mentionText} — can someone take this incident? Escalation is waiting for you until ${hhmm(r.until)} UTC, then goes on to the next rung.`;
  const blocks: UiBlock[] = [{ type: 'section', block_id: 'take', text: { type: 'mrkdwn', text: head } }];
  if (!settled) {
    blocks.push({
      type: 'actions',
      block_id: 'take_actions',
      elements: [
        { type: 'button', action_id: LADDER_ACTIONS.take, style: 'primary', text: { type: 'plain_text', text: 'Take it' }, value: encodeLadderRef({ workflowId, rung: r.rung }) },
      ],
    });
  } else {
    const line =
      settled.outcome === 'taken'
        ? `:raising_hand: Taken by ${mention(settled.by ?? '?')}${settled.at ? ` at ${hhmm(settled.at)} UTC` : ''}`
        : settled.outcome === 'missed'
          ? `:x: Nobody took it by ${hhmm(r.until)} UTC; escalation went on`
          : ':checkered_flag: No longer needed: the incident ended';
    blocks.push({ type: 'context', block_id: 'take_settled', elements: [{ type: 'mrkdwn', text: line }] });
  }
  const text = settled ? `Take request for ${esc(r.group)}: ${settled.outcome}` : `${mentionText} can someone take this incident?`;
  return { text, blocks };
}
