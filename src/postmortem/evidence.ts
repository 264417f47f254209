// The postmortem's evidence section: every pack the incident collected (at open, after each
// action, at escalation), so before and after read side by side: pods and their last state,
// nodes, events, the last log lines, the queries' values, the probe's responses, what changed
// with the likely cause, and the parts that were missing and why. Pure Markdown.
import type { TimelineEntry } from '../../workflows/contracts.js';
import { factsOf, type EvidencePack } from '../evidence/schema.js';

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
const one = (s: string): string => s.replace(/\r?\n/g, ' ');
const title = (p: EvidencePack): string => (p.moment === 'after-step' && p.step !== undefined ? `after step ${p.step + 1}` : p.moment === 'open' ? 'at open' : 'at escalation');

function pack(p: EvidencePack): string[] {
  const f = factsOf(p);
  const out = [`### Evidence ${title(p)} (${clock(p.collectedAt)} UTC)`, ''];
  out.push(`- OOMKilled: ${f.oomKilled ? 'yes' : 'no'} · CrashLoopBackOff: ${f.crashLoop ? 'yes' : 'no'} · restarts: ${f.restarts}`);
  const k = p.kubernetes;
  if (k) {
    out.push(`- ${k.target.kind} ${k.target.namespace}/${k.target.name}${k.owners.length ? ` (${k.owners.join(' → ')})` : ''}`);
    for (const pod of k.pods) out.push(`  - pod ${pod.name} ${pod.phase}, ${pod.restarts} restarts: ${pod.containers.map((c) => `${c.name} ${c.state}${c.reason ? ` ${c.reason}` : ''}${c.lastState?.reason ? `, last ${c.lastState.reason} exit ${c.lastState.exitCode ?? '?'}` : ''}`).join('; ')}`);
    for (const n of k.nodes.filter((x) => x.conditions.length)) out.push(`  - node ${n.name}: ${n.conditions.map((c) => `${c.type}=${c.status}`).join(', ')}`);
    for (const e of k.events) out.push(`  - ${e.at} ${e.type} ${e.reason} ${e.object} ×${e.count}: ${one(e.message)}`);
  }
  for (const q of p.prometheus?.queries ?? []) out.push(`- ${q.name} \`${q.query}\`: ${q.error ? `failed: ${q.error}` : q.series.map((s) => s.value).join(', ') || 'no data'}`);
  for (const r of p.http?.responses ?? []) out.push(`- ${r.url} → ${r.status ?? r.error ?? '?'} in ${Math.round(r.ms)}ms`);
  if (p.changes?.items.length) {
    out.push('- What changed (newest first):');
    p.changes.items.forEach((c, i) => out.push(`  - ${clock(c.at)} ${c.kind} ${c.what}: ${one(c.detail)}${p.changes?.likelyCause?.index === i ? ' **(likely cause)**' : ''}`));
  }
  for (const m of p.missing) out.push(`- _${m.part} missing: ${one(m.reason)}_`);
  if (p.logs?.lines.length) out.push('', `Last log lines (${p.logs.source}, \`${p.logs.query}\`):`, '', '```', ...p.logs.lines.map((l) => `${l.at ?? ''} ${one(l.line).replace(/```/g, "'''")}`.trim()), '```');
  out.push('');
  return out;
}

export function evidenceSection(events: TimelineEntry[]): string[] {
  const packs = events.flatMap((e) => (e.kind === 'control.evidence' ? [e.data.evidence] : []));
  if (packs.length === 0) return [];
  return ['## Evidence', '', ...packs.flatMap(pack)];
}
