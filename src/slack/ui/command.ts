// Text answers for /medic. Ephemeral replies, so plain mrkdwn text is enough.
import type { IncidentSummary } from '../../incidents/api.js';
import type { IncidentStatus, PauseState, TimelineEntry } from '../../../workflows/contracts.js';
import { esc } from './escape.js';
import { entryLine, statusLabel } from './incident.js';
import { hiddenLine } from '../visibility.js';

export const HELP = [
  '*medic* — self-healing operations',
  '`/medic run <runbook> [key=value…]` — start a runbook (a modal asks for missing parameters)',
  '`/medic status [incident]` — kill switch and open incidents, or one incident in detail',
  '`/medic incidents` — open incidents',
  '`/medic pause [reason]` / `/medic resume` — kill switch (admins only)',
  '`/medic help` — this text',
].join('\n');

const pauseLine = (p: PauseState): string =>
  p.paused ? `:octagonal_sign: Automation is *paused*${p.by ? ` by ${esc(p.by)}` : ''}${p.reason ? `: ${esc(p.reason)}` : ''}` : ':large_green_circle: Automation is *running*';

/** Open incidents the user may see; `hidden` counts those of other teams (src/slack/visibility.ts). */
export function incidentsText(list: IncidentSummary[], hidden = 0): string {
  const note = hidden > 0 ? [`_${hiddenLine(hidden)}._`] : [];
  if (list.length === 0) return [hidden > 0 ? 'No open incidents you may see.' : 'No open incidents.', ...note].join('\n');
  return [`*${list.length} open incident(s)*`, ...list.map((i) => `• \`${esc(i.workflowId)}\` ${esc(i.service)} · ${esc(i.severity)} · ${esc(i.status)}`), ...note].join('\n');
}

export function overviewText(pause: PauseState, list: IncidentSummary[], hidden = 0): string {
  return `${pauseLine(pause)}\n${incidentsText(list, hidden)}`;
}

export function incidentText(s: IncidentStatus, timeline: TimelineEntry[]): string {
  const lines = [
    `*${esc(s.alertname)} on ${esc(s.target)}* — ${statusLabel(s.status)}`,
    `incident \`${esc(s.incidentId)}\` · playbook ${esc(s.playbook)}${s.stepName ? ` · step ${s.stepIndex + 1} (${esc(s.stepName)})` : ''}`,
    ...(s.outcome ? [`outcome: ${esc(s.outcome)}`] : []),
    ...timeline.slice(-8).map(entryLine),
  ];
  return lines.join('\n').slice(0, 3000);
}
