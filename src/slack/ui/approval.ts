// Block Kit for approval requests: the message with Approve / Deny, its decided form, and the
// modal asking why a step is denied.
import type { types } from '@slack/bolt';
import type { ApprovalRequest } from '../../../workflows/contracts.js';

type ModalView = types.ModalView;
import { esc } from './escape.js';
import { hhmm, type SlackMessage, type UiBlock } from './incident.js';

export const ACTIONS = { approve: 'approve_step', deny: 'deny_step' } as const;
export const VIEWS = { denyReason: 'deny_reason' } as const;
export const DENY_REASON_BLOCK = 'reason';
export const DENY_REASON_ACTION = 'reason_input';

/** What a button carries: which incident, which step and which request (its requestedAt) the
 * clicker saw; buttons posted before `request` existed carry none. */
export interface ApprovalRef {
  workflowId: string;
  step: number;
  request?: number;
}
export const encodeRef = (r: ApprovalRef): string => JSON.stringify({ w: r.workflowId, s: r.step, ...(r.request !== undefined ? { r: r.request } : {}) });
export function decodeRef(value: string | undefined): ApprovalRef | undefined {
  try {
    const v = JSON.parse(value ?? '') as { w?: unknown; s?: unknown; r?: unknown };
    if (typeof v.w !== 'string' || !Number.isInteger(v.s)) return undefined;
    return { workflowId: v.w, step: v.s as number, ...(Number.isInteger(v.r) ? { request: v.r as number } : {}) };
  } catch {
    return undefined;
  }
}

const who = (approvers: string[]): string =>
  approvers.map((a) => (/^[UW][A-Z0-9]+$/.test(a) ? `<@${a}>` : esc(a))).join(', ') || 'nobody';

export interface Decided {
  /** closed: nobody decided, and the request can no longer be decided (`reason` says why). */
  decision: 'approve' | 'deny' | 'expired' | 'closed';
  by: string;
  at: number;
  reason?: string;
  /** Four-eyes: who approved before `by`. */
  with?: string[];
}

const mention = (by: string): string => (/^[UW][A-Z0-9]+$/.test(by) ? `<@${by}>` : esc(by));

export function decidedLine(d: Decided): string {
  if (d.decision === 'approve') return `:white_check_mark: Approved by ${[...(d.with ?? []), d.by].map(mention).join(' and ')} at ${hhmm(d.at)} UTC`;
  if (d.decision === 'deny') return `:no_entry: Denied by ${mention(d.by)} at ${hhmm(d.at)} UTC: ${esc(d.reason ?? 'no reason given')}`;
  if (d.decision === 'closed') return `:heavy_minus_sign: No longer open since ${hhmm(d.at)} UTC: ${esc(d.reason ?? 'the incident moved on')}`;
  return `:hourglass: Expired unanswered at ${hhmm(d.at)} UTC`;
}

const fourEyesNote = (r: ApprovalRequest): string => {
  if (!r.fourEyes) return '';
  return (r.needed ?? 1) > 1 ? ` · four-eyes: ${r.needed} different approvers${r.requestedBy ? ', not the requester' : ''}` : ' · four-eyes: the requester may not approve';
};

/** The request; once decided, the same message without buttons and with who decided. While a
 * four-eyes request has some of its approvals, it shows them and keeps its buttons. */
export function approvalMessage(workflowId: string, r: ApprovalRequest, decided?: Decided): SlackMessage {
  const ref = encodeRef({ workflowId, step: r.step, request: r.requestedAt });
  const lines = [
    `*Approval needed* for step ${r.step + 1}: *${esc(r.stepName)}*`,
    `*What:* ${esc(r.what)}`,
    ...(r.preview ? [`*Dry run:* ${esc(r.preview)}`] : []),
    `*Risk:* ${r.risk}${fourEyesNote(r)}`,
    `*Who may approve:* ${who(r.approvers)}`,
    // Policy reasons are the policy author's text, not alert data, but escaped all the same.
    ...(r.policy ? [`*Required by policy* \`${esc(r.policy.decision)}\`${r.policy.hash ? ` (sha256 ${r.policy.hash.slice(0, 12)})` : ''}${r.policy.reasons.length > 0 ? `: ${esc(r.policy.reasons.join('; '))}` : ''}`] : []),
    ...(r.approvedBy?.length && !decided ? [`:ballot_box_with_check: *${r.approvedBy.length} of ${r.needed ?? 1} approvals:* ${r.approvedBy.map((a) => mention(a.by)).join(', ')} — waiting for a different approver`] : []),
    `*Expires:* <!date^${Math.floor(r.expiresAt / 1000)}^{date_short_pretty} {time}|${new Date(r.expiresAt).toISOString()}>`,
  ];
  const blocks: UiBlock[] = [{ type: 'section', block_id: 'request', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 3000) } }];
  if (decided) {
    blocks.push({ type: 'context', block_id: 'decided', elements: [{ type: 'mrkdwn', text: decidedLine(decided).slice(0, 3000) }] });
  } else {
    blocks.push({
      type: 'actions',
      block_id: 'decide',
      elements: [
        { type: 'button', action_id: ACTIONS.approve, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: ref },
        { type: 'button', action_id: ACTIONS.deny, style: 'danger', text: { type: 'plain_text', text: 'Deny…' }, value: ref },
      ],
    });
  }
  const text = decided
    ? `${esc(r.stepName)}: ${decidedLine(decided).replace(/^:[a-z_]+: /, '')}`
    : `Approval needed: ${esc(r.what)} (risk ${r.risk})`;
  return { text, blocks };
}

/** Where the Deny button was: its message, and the thread it is in (for the private answer). */
export interface DenyMeta extends ApprovalRef {
  channel: string;
  ts: string;
  thread?: string;
}
export function parseDenyMeta(raw: string): DenyMeta | undefined {
  try {
    const v = JSON.parse(raw) as Partial<DenyMeta>;
    if (typeof v.workflowId !== 'string' || !Number.isInteger(v.step) || typeof v.channel !== 'string' || typeof v.ts !== 'string') return undefined;
    return {
      workflowId: v.workflowId,
      step: v.step!,
      channel: v.channel,
      ts: v.ts,
      ...(Number.isInteger(v.request) ? { request: v.request! } : {}),
      ...(typeof v.thread === 'string' ? { thread: v.thread } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The modal Deny opens; private_metadata carries the button's reference and where it was. */
export function denyReasonModal(ref: ApprovalRef, stepName: string, message: { channel: string; ts: string; thread?: string }): ModalView {
  const meta: DenyMeta = { ...ref, channel: message.channel, ts: message.ts, ...(message.thread ? { thread: message.thread } : {}) };
  return {
    type: 'modal',
    callback_id: VIEWS.denyReason,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text', text: 'Deny step' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Deny step ${ref.step + 1} (*${esc(stepName)}*)? The incident will be escalated.` } },
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK,
        label: { type: 'plain_text', text: 'Reason' },
        element: { type: 'plain_text_input', action_id: DENY_REASON_ACTION, multiline: true, min_length: 3, max_length: 2000 },
      },
    ],
  };
}
