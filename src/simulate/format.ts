// Human-readable `medic simulate` output: one block per predicted incident.
import type { GateDecision } from '../policy/gates.js';
import type { SimEvent, SimIncident, SimResult } from './engine.js';
import { formatSequence } from './sequence.js';

function eventLine(e: SimEvent): string[] {
  switch (e.kind) {
    case 'gates': {
      const head = `  gates for step ${e.step + 1} at ${e.at}: ${e.verdict.toUpperCase()}`;
      const line = (d: GateDecision, who: string): string => `    ${d.outcome === 'pass' ? '✓' : d.outcome === 'wait' ? '…' : '✗'} ${who}${d.gate}: ${d.reason}`;
      return [head, ...e.decisions.map((d) => line(d, '')), ...e.governor.map((d) => line(d, 'governor '))];
    }
    case 'approval':
      return [`  approval: ${e.message}`];
    case 'action':
      return [`  step ${e.step + 1} (${e.name}) try ${e.try}: ${e.what}`, `    ${e.ok ? '→' : '✗'} ${e.dryRun}`];
    case 'verification':
      return [`    verification: ${e.message}`];
    case 'advance':
      return [`  ${e.message}`];
    case 'policy':
      return [`  ${e.message}`];
    case 'silence':
      return [`  silence: ${e.message}`];
  }
}

export function formatIncident(i: SimIncident): string {
  const lines = [
    `incident ${i.workflowId}`,
    `  alert ${i.alertname}${i.service ? ` (service ${i.service})` : ''} at ${i.openedAt}; ${i.alerts} alert(s)${i.resolvedInRecording ? ', resolved later in the recording' : ''}`,
    `  playbook ${i.playbook} (mode ${i.mode}), target ${i.target}`,
    ...i.correlated.map((c) => `  + ${c.alertname}${c.service ? ` (${c.service})` : ''} attached — correlated: ${c.reason}`),
    ...i.events.flatMap(eventLine),
    `  steps: ${formatSequence(i.sequence)}`,
  ];
  if (i.escalation) {
    lines.push(`  ⇒ ESCALATES: ${i.escalation.reason}`, ...i.escalation.rungs.map((r, n) => `    rung ${n + 1}: ${r}`));
  } else {
    lines.push(`  ⇒ RESOLVES: ${i.reason}`);
  }
  return lines.join('\n');
}

export function formatSimulation(r: SimResult): string {
  const blocks = r.incidents.map(formatIncident);
  const summary = [
    `${r.incidents.length} incident(s): ${r.incidents.filter((i) => i.outcome === 'resolved').length} would be healed, ${r.incidents.filter((i) => i.outcome === 'escalated').length} would escalate`,
    ...(r.unmatched.length ? [`${r.unmatched.length} alert(s) match no playbook: ${[...new Set(r.unmatched.map((u) => u.alertname))].join(', ')}`] : []),
    ...(r.resolvedWithoutIncident ? [`${r.resolvedWithoutIncident} resolved alert(s) with no incident open (ignored)`] : []),
    'nothing was changed: every action ran as a dry run',
  ];
  return [...blocks, summary.join('\n')].join('\n\n');
}
