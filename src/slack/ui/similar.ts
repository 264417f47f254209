// Similar past incidents on the root message: what fixed them, each fix's success rate, and a
// link to their postmortem; "try what worked last time" when this playbook has that step.
import type { IncidentStatus } from '../../../workflows/contracts.js';
import { esc } from './escape.js';
import type { SimilarIncident } from '../../store/similar.js';

type UiBlock = { type: string; block_id?: string; [k: string]: unknown };

const pct = (x: number): string => `${Math.round(x * 100)}%`;
const day = (at: number): string => new Date(at).toISOString().slice(0, 10);

export function similarBlocks(i: IncidentStatus): UiBlock[] {
  const list = i.similar ?? [];
  if (list.length === 0) return [];
  const lines = list.map((x: SimilarIncident) => {
    const thread = x.threadUrl && /^https?:\/\//.test(x.threadUrl) ? ` · <${x.threadUrl}|thread>` : '';
    const link = ` · postmortem \`${esc(x.postmortem)}\`${thread}`;
    const fix = x.fix ? `fixed by *${esc(x.fix.step)}* (${pct(x.fix.successRate)} of ${x.fix.runs} run${x.fix.runs === 1 ? '' : 's'} healed)` : `no fix by medic (${esc(x.outcome)})`;
    return `• ${day(x.openedAt)} \`${esc(x.incidentId.slice(-24))}\` ${esc(x.why)}: ${fix}${link}`;
  });
  const blocks: UiBlock[] = [{ type: 'section', block_id: 'similar', text: { type: 'mrkdwn', text: `*Similar past incidents*\n${lines.join('\n')}`.slice(0, 2900) } }];
  if (i.tryWhatWorked) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `:bulb: Try what worked last time: *${esc(i.tryWhatWorked.step)}* (step ${i.tryWhatWorked.index + 1} of this playbook; healed ${pct(i.tryWhatWorked.successRate)} of similar incidents)` }] });
  }
  return blocks;
}
