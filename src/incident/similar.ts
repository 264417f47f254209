// Similar past incidents in the decision core: asked of the store once, at open (read-only,
// answered in the background: it never holds up a step), and kept in state for the root message,
// the timeline and "try what worked last time" (src/store/similar.ts whatWorked).
import { entry } from '../../workflows/contracts-timeline.js';
import type { SimilarIncident } from '../../workflows/contracts.js';
import type { Run } from './run.js';

export const SIMILAR_SHOWN = 3;

export function findSimilar(r: Run): void {
  const { alert, playbook, incidentId } = r.env;
  r.emit({
    kind: 'findSimilar',
    query: { incidentId, playbook: playbook.name, alertname: alert.alertname, service: alert.labels.service ?? '', labels: alert.labels, ...(r.s.signature ? { signature: r.s.signature } : {}) },
  });
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

export function onSimilar(r: Run, found: SimilarIncident[]): void {
  const similar = found.slice(0, SIMILAR_SHOWN);
  if (similar.length === 0) return;
  r.s.similar = similar;
  const best = similar[0]!;
  const fix = best.fix ? `, fixed by ${best.fix.step} (healed ${pct(best.fix.successRate)} of ${best.fix.runs} runs)` : `, ${best.outcome}`;
  r.note(entry.similarFound({ message: `${similar.length} similar past incident(s); closest ${best.incidentId} (${best.why}${fix})`, data: { similar } }));
}
