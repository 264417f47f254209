// App Home: open incidents with their state, the kill switch with its button, and the last
// 7 days in numbers. Pure: the listener gathers the data.
import type { types } from '@slack/bolt';
import type { IncidentSummary } from '../../incidents/api.js';
import type { IncidentStatusName, PauseState } from '../../../workflows/contracts.js';
import { esc } from './escape.js';
import { statusLabel, type UiBlock } from './incident.js';
import { hiddenLine } from '../visibility.js';

export const HOME_ACTIONS = { togglePause: 'toggle_pause' } as const;

export interface WeekStats {
  autoResolved: number;
  escalated: number;
  /** Mean time to recover of resolved incidents, ms; undefined when none resolved. */
  mttrMs?: number;
}

const duration = (ms: number): string => (ms < 60_000 ? `${Math.round(ms / 1000)}s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)}m` : `${(ms / 3_600_000).toFixed(1)}h`);

export function homeView(d: { pause: PauseState; open: IncidentSummary[]; week: WeekStats; notice?: string; hidden?: number }): types.HomeView {
  const blocks: UiBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'medic' } }];
  if (d.notice) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: esc(d.notice) }] });
  blocks.push({
    type: 'section',
    block_id: 'kill_switch',
    text: {
      type: 'mrkdwn',
      text: d.pause.paused
        ? `:octagonal_sign: *Automation is paused*${d.pause.by ? ` by ${esc(d.pause.by)}` : ''}${d.pause.reason ? `: ${esc(d.pause.reason)}` : ''}`
        : ':large_green_circle: *Automation is running*',
    },
    accessory: {
      type: 'button',
      action_id: HOME_ACTIONS.togglePause,
      text: { type: 'plain_text', text: d.pause.paused ? 'Resume' : 'Pause' },
      value: d.pause.paused ? 'resume' : 'pause',
      ...(d.pause.paused ? { style: 'primary' } : { style: 'danger' }),
    },
  });
  blocks.push({ type: 'divider' }, { type: 'section', text: { type: 'mrkdwn', text: `*Open incidents* (${d.open.length})` } });
  for (const i of d.open.slice(0, 40)) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `${statusLabel((i.status || 'open') as IncidentStatusName)} · *${esc(i.service || '?')}* · ${esc(i.severity)}\n\`${esc(i.workflowId)}\`` },
    });
  }
  if (d.open.length === 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: d.hidden ? 'Nothing open that you may see.' : 'Nothing open.' }] });
  if (d.hidden) blocks.push({ type: 'context', block_id: 'hidden', elements: [{ type: 'mrkdwn', text: `${hiddenLine(d.hidden)}.` }] });
  blocks.push(
    { type: 'divider' },
    {
      type: 'section',
      block_id: 'week',
      fields: [
        { type: 'mrkdwn', text: `*Auto-resolved (7 days)*\n${d.week.autoResolved}` },
        { type: 'mrkdwn', text: `*Escalated (7 days)*\n${d.week.escalated}` },
        { type: 'mrkdwn', text: `*MTTR (7 days)*\n${d.week.mttrMs === undefined ? '—' : duration(d.week.mttrMs)}` },
      ],
    },
  );
  return { type: 'home', blocks: blocks as types.HomeView['blocks'] };
}
