// A postmortem as Markdown, from the incident store: summary, impact and timings (TTD, time to
// first action, MTTR), links (graph, silence, runbook, Slack thread, Temporal), the timeline,
// the actions tried with their results, and the gates, approvals and escalation on the way.
// Pure: the same data renders the same document.
import { groupOf, type TimelineEntry, type TimelineGroup } from '../../workflows/contracts.js';
import { seconds, type PostmortemData } from './load.js';
import { evidenceSection } from './evidence.js';

export interface PostmortemOptions {
  temporalUiUrl?: string;
  namespace?: string;
}

const OUTCOMES: Record<string, string> = {
  auto_resolved: 'healed by medic without a person',
  resolved_before_action: 'the alert resolved by itself before medic acted (a false positive)',
  resolved_after_escalation: 'resolved after medic escalated to people',
  escalated: 'escalated to people; not resolved while medic watched',
};

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const cell = (s: string): string => s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

function bullets(events: TimelineEntry[], opened: number, none: string): string[] {
  if (events.length === 0) return [`_${none}_`];
  return events.map((e) => `- ${clock(e.at)} (+${seconds(e.at - opened)}) — ${e.message.replace(/\r?\n/g, ' ')}`);
}

export function postmortemMarkdown(d: PostmortemData, o: PostmortemOptions = {}): string {
  const i = d.incident;
  const opened = i.opened_at;
  const kinds = (...k: TimelineGroup[]): TimelineEntry[] => d.events.filter((e) => k.includes(groupOf(e.kind)));
  const firstAction = kinds('action')[0];
  const recovered = i.outcome_class === 'auto_resolved' || i.outcome_class === 'resolved_after_escalation';
  const temporal = o.temporalUiUrl ? `${o.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(o.namespace ?? 'default')}/workflows/${encodeURIComponent(i.workflow_id)}` : undefined;

  const lines = [
    `# Postmortem: ${i.alertname} on ${i.target}`,
    '',
    '## Summary',
    '',
    `${i.alertname} (${i.severity}) fired for service \`${i.service || '—'}\` on \`${i.target}\`; medic ran playbook \`${i.playbook}\`. ` +
      (i.ended_at === null ? `The incident is still **${i.status}**.` : `Outcome: **${i.status}** — ${i.outcome ?? ''}${i.outcome_class ? ` (${OUTCOMES[i.outcome_class]})` : ''}.`),
    '',
    `- Incident: \`${i.incident_id}\``,
    `- Opened: ${iso(opened)}${i.ended_at !== null ? ` · ended: ${iso(i.ended_at)} (after ${seconds(i.ended_at - opened)})` : ''}`,
    `- Alerts received: ${i.alerts_received}; medic acted: ${i.acted ? 'yes' : 'no'}; escalated: ${i.escalated ? 'yes' : 'no'}`,
    '',
    '## Impact and timings',
    '',
    '| measure | value |',
    '| --- | --- |',
    `| time to detect (TTD) | ${i.ttd_seconds !== null ? seconds(i.ttd_seconds * 1000) : 'unknown'} |`,
    `| time to first action | ${firstAction ? seconds(firstAction.at - opened) : 'no action taken'} |`,
    `| time to recover (MTTR) | ${recovered && i.ended_at !== null ? seconds(i.ended_at - opened) : 'not recovered'} |`,
    `| open for | ${i.ended_at !== null ? seconds(i.ended_at - opened) : 'still open'} |`,
    '',
    '## Links',
    '',
    ...[
      d.links.graph ? `- Graph: ${d.links.graph}` : '- Graph: _none (the alert carried no Prometheus link)_',
      ...(d.links.silence ? [`- Silence: ${d.links.silence}`] : []),
      ...(d.links.runbook ? [`- Runbook: ${d.links.runbook}`] : []),
      ...(d.links.slack ? [`- Slack thread: ${d.links.slack}`] : []),
      ...(temporal ? [`- Temporal: ${temporal}`] : []),
    ],
    '',
    ...evidenceSection(d.events),
    '## Timeline (UTC)',
    '',
    '| time | + | kind | what |',
    '| --- | --- | --- | --- |',
    ...d.events.map((e) => `| ${clock(e.at)} | ${seconds(e.at - opened)} | ${groupOf(e.kind)} | ${cell(e.message)} |`),
    '',
    '## Actions tried',
    '',
  ];
  if (d.steps.length === 0) lines.push('_none_');
  else {
    lines.push('| step | try | action | started | result | HTTP | verified | took |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const s of d.steps) {
      const verified = s.verified === null ? '—' : s.verified ? 'yes' : 'no';
      const took = s.ended_at !== null ? seconds(s.ended_at - s.started_at) : '—';
      lines.push(`| ${s.step + 1} | ${s.try} | ${cell(s.name)} | ${clock(s.started_at)} | ${s.result ?? 'unfinished'} | ${s.http_status ?? '—'} | ${verified} | ${took} |`);
    }
  }
  lines.push(
    '',
    '## Gates and locks',
    '',
    ...bullets(kinds('gate', 'lock', 'control').filter((e) => e.kind !== 'control.evidence'), opened, 'no gate or lock held anything up'),
    '',
    '## Approvals',
    '',
    ...bullets(kinds('approval'), opened, 'no approval was needed'),
    '',
    '## Escalation',
    '',
    ...bullets(kinds('escalation'), opened, 'not escalated'),
    '',
    '## Follow-ups',
    '',
    '- [ ] ',
    '',
  );
  return lines.join('\n');
}
