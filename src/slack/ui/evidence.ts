// Block Kit for an evidence pack in the incident thread: what medic saw (pods and their last
// state, events, nodes, the last log lines, the queries' values, the probe's responses), what
// changed before the alert with the likely cause called out, and which parts are missing and
// why. Within Slack's limits whatever the pack holds (50 blocks, 3,000 characters per section,
// 10 context elements): what does not fit is cut here and the whole pack goes as a file
// (`file` says so). Pure; all pack text is escaped (it holds alert, log and cluster data).
import type { EvidencePack } from '../../evidence/schema.js';
import { factsOf } from '../../evidence/schema.js';
import { esc } from './escape.js';
import { hhmm, type SlackMessage, type UiBlock } from './incident.js';

export const SECTION_MAX = 2_900;
const CONTEXT_MAX = 10;
const MAX_LINES = { pods: 5, events: 5, series: 5, changes: 8 } as const;

const clipLines = (lines: string[], max = SECTION_MAX): { text: string; cut: boolean } => {
  let text = '';
  for (const l of lines) {
    const next = text ? `${text}\n${l}` : l;
    if (next.length > max) return { text: text || `${l.slice(0, max - 1)}…`, cut: true };
    text = next;
  }
  return { text, cut: false };
};
const section = (text: string, id?: string): UiBlock => ({ type: 'section', ...(id ? { block_id: id } : {}), text: { type: 'mrkdwn', text } });
const ago = (at: number, now: number): string => `${Math.max(0, Math.round((now - at) / 60_000))}m before`;
const when = (p: EvidencePack): string => (p.moment === 'after-step' && p.step !== undefined ? `after step ${p.step + 1}` : p.moment === 'open' ? 'at open' : 'at escalation');

/** The file name of the full pack shared beside a message that could not show all of it. */
export const evidenceFileName = (p: EvidencePack): string => `evidence-${p.moment}${p.step !== undefined ? `-step-${p.step + 1}` : ''}.json`;

export function evidenceMessage(p: EvidencePack, incidentTitle: string): SlackMessage & { file: boolean } {
  const blocks: UiBlock[] = [];
  let cut = false;
  const add = (title: string, lines: string[], id: string, fence = false): void => {
    if (lines.length === 0) return;
    const head = `*${title}*\n`;
    const budget = SECTION_MAX - head.length - (fence ? 8 : 0);
    // Logs keep their newest lines: clip from the top.
    const c = fence ? clipLines([...lines].reverse(), budget) : clipLines(lines, budget);
    const body = fence ? c.text.split('\n').reverse().join('\n') : c.text;
    cut ||= c.cut;
    blocks.push(section(fence ? `${head}\`\`\`${body}\`\`\`` : `${head}${body}`, id));
  };
  const f = factsOf(p);
  const notable = [f.oomKilled ? ':boom: *OOMKilled*' : '', f.crashLoop ? ':repeat: *CrashLoopBackOff*' : '', p.kubernetes ? `${f.restarts} restart(s)` : ''].filter(Boolean);
  blocks.push(section(`:mag_right: *Evidence ${when(p)}* · collected ${hhmm(p.collectedAt)} UTC${notable.length ? `\n${notable.join(' · ')}` : ''}`, 'evidence'));

  const k = p.kubernetes;
  if (k) {
    const pods = k.pods.slice(0, MAX_LINES.pods).map((pod) => {
      const cs = pod.containers.map((c) => `${esc(c.name)} ${esc(c.state)}${c.reason ? ` (${esc(c.reason)})` : ''}${c.exitCode !== undefined ? ` exit ${c.exitCode}` : ''}${c.lastState?.reason ? `, last: ${esc(c.lastState.reason)}${c.lastState.exitCode !== undefined ? ` exit ${c.lastState.exitCode}` : ''}` : ''}`);
      return `• \`${esc(pod.name)}\` ${esc(pod.phase)} · ${pod.restarts} restarts${pod.node ? ` · node ${esc(pod.node)}` : ''} — ${cs.join('; ') || 'no container status'}`;
    });
    if (k.pods.length > MAX_LINES.pods) pods.push(`…and ${k.pods.length - MAX_LINES.pods} more pod(s)`);
    const nodes = k.nodes.filter((n) => n.conditions.length > 0).map((n) => `• node \`${esc(n.name)}\`: ${n.conditions.map((c) => `${esc(c.type)}=${esc(c.status)}${c.reason ? ` (${esc(c.reason)})` : ''}`).join(', ')}`);
    const events = k.events.slice(0, MAX_LINES.events).map((e) => `• \`${e.at.slice(11, 16)}\` ${e.type === 'Warning' ? ':warning: ' : ''}${esc(e.reason)} ${esc(e.object)} ×${e.count}: ${esc(e.message.slice(0, 200))}`);
    cut ||= k.events.length > MAX_LINES.events || k.pods.length > MAX_LINES.pods;
    add(`Kubernetes ${esc(k.target.kind)} ${esc(k.target.namespace)}/${esc(k.target.name)}${k.owners.length ? ` · ${k.owners.map(esc).join(' → ')}` : ''}`, [...pods, ...nodes, ...(events.length ? ['*Events*', ...events] : [])], 'evidence_kubernetes');
  }
  if (p.logs) add(`Last ${p.logs.lines.length} log line(s) (${esc(p.logs.source)})`, p.logs.lines.map((l) => `${l.at ? `${l.at.slice(11, 19)} ` : ''}${esc(l.line.replace(/`/g, "'"))}`), 'evidence_logs', true);
  if (p.prometheus) {
    const lines = p.prometheus.queries.map((q) => {
      if (q.error) return `• *${esc(q.name)}*: failed: ${esc(q.error)}`;
      const vals = q.series.slice(0, MAX_LINES.series).map((s) => {
        const labels = Object.entries(s.labels).filter(([n]) => n !== '__name__').map(([n, v]) => `${n}="${v}"`).join(',');
        return `${labels ? `{${esc(labels)}} ` : ''}${s.value ?? 'NaN'}`;
      });
      return `• *${esc(q.name)}* \`${esc(q.query.slice(0, 200))}\` = ${vals.join(', ') || 'no data'}${q.series.length > MAX_LINES.series ? ` (+${q.series.length - MAX_LINES.series} more)` : ''}`;
    });
    add('Prometheus', lines, 'evidence_prometheus');
  }
  if (p.http) {
    const lines = p.http.responses.map((r) => `• ${esc(r.url)} → ${r.status !== undefined ? `HTTP ${r.status}` : esc(r.error ?? 'no answer')} in ${Math.round(r.ms)}ms${r.body ? `: \`${esc(r.body.slice(0, 120).replace(/`/g, "'"))}\`` : ''}`);
    if (p.http.lastVerification) lines.push(`• last verification: ${esc(p.http.lastVerification)}`);
    add('HTTP probe', lines, 'evidence_http');
  }
  const ch = p.changes;
  if (ch) {
    const window = `${Math.round(ch.windowMs / 60_000)}m`;
    const lines = ch.items.slice(0, MAX_LINES.changes).map((c, i) => {
      const likely = ch.likelyCause?.index === i ? ':dart: *likely cause* · ' : '';
      return `• ${likely}\`${hhmm(c.at)}\` (${ago(c.at, p.collectedAt)}) *${esc(c.kind)}* ${esc(c.what)} — ${esc(c.detail)}`;
    });
    cut ||= ch.items.length > MAX_LINES.changes;
    if (ch.likelyCause) lines.unshift(`:dart: ${esc(ch.likelyCause.reason)}`);
    add(`What changed in the ${window} before`, lines.length ? lines : [`nothing seen in the last ${window}`], 'evidence_changes');
  }
  const missing = p.missing.map((m) => `:grey_question: *${m.part} missing*: ${esc(m.reason.slice(0, 300))}`);
  if (p.truncated?.length) missing.push(`:scissors: pack cut to its size cap: ${p.truncated.map(esc).join(', ')}`);
  // Context blocks take 10 elements: one is kept for the file note.
  if (missing.length > CONTEXT_MAX - 1) {
    missing.splice(CONTEXT_MAX - 2, missing.length, `…and ${missing.length - (CONTEXT_MAX - 2)} more (in the file)`);
    cut = true;
  }
  if (cut) missing.push(':paperclip: the full pack is attached as a file');
  if (missing.length > 0) blocks.push({ type: 'context', elements: missing.map((text) => ({ type: 'mrkdwn', text })) });
  return { text: `Evidence ${when(p)} for ${esc(incidentTitle)}${notable.length ? `: ${notable.map((n) => n.replace(/[:*]|boom|repeat/g, '').trim()).join(', ')}` : ''}`, blocks, file: cut };
}
