// The Snooze buttons on an incident's root message: one per duration the playbook offers. A
// click silences the incident's alerts in Alertmanager for that long, by the clicker (who must be
// allowed to approve a step of the playbook), recorded in the timeline.
import type { IncidentStatus } from '../../../workflows/contracts.js';

type UiBlock = { type: string; block_id?: string; [k: string]: unknown };

/** Every Snooze button's action id starts with this (Slack wants ids unique within a block). */
export const SNOOZE_ACTION = 'snooze_incident';
export const SNOOZE_ACTION_PATTERN = /^snooze_incident:/;

export interface SnoozeRef {
  workflowId: string;
  duration: string;
}
export const encodeSnoozeRef = (r: SnoozeRef): string => JSON.stringify({ w: r.workflowId, d: r.duration });
export function decodeSnoozeRef(value: string | undefined): SnoozeRef | undefined {
  try {
    const v = JSON.parse(value ?? '') as { w?: unknown; d?: unknown };
    return typeof v.w === 'string' && typeof v.d === 'string' ? { workflowId: v.w, duration: v.d } : undefined;
  } catch {
    return undefined;
  }
}

/** While the incident runs and its playbook offers snoozing. */
export function snoozeBlocks(i: IncidentStatus): UiBlock[] {
  if (!i.snoozeChoices || i.snoozeChoices.length === 0 || i.phase === 'done') return [];
  return [
    {
      type: 'actions',
      block_id: 'snooze',
      elements: i.snoozeChoices.slice(0, 5).map((d) => ({
        type: 'button',
        action_id: `${SNOOZE_ACTION}:${d}`,
        text: { type: 'plain_text', text: `Snooze ${d}` },
        value: encodeSnoozeRef({ workflowId: i.workflowId, duration: d }),
      })),
    },
  ];
}
