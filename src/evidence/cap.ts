// The evidence pack's size cap. It travels in workflow history, a timeline entry (the store,
// the Slack thread) and a PagerDuty page (Events v2 takes 512 KB in all), so it is cut to a
// byte budget, least useful first: old log lines, response bodies, old events, extra series,
// extra pods; then whole parts. Each cut is named in `truncated`. Pure.
import type { EvidencePack } from './schema.js';

export const EVIDENCE_MAX_BYTES = 32 * 1024;
/** UTF-8 length of the JSON, counted by hand: this runs in the workflow sandbox too. */
export function packBytes(p: unknown): number {
  const s = JSON.stringify(p) ?? '';
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4; // a surrogate pair is one 4-byte character
      i++;
    } else n += 3;
  }
  return n;
}

type Cut = [string, (p: EvidencePack) => boolean];
const CUTS: Cut[] = [
  ['log lines (oldest)', (p) => !!p.logs && p.logs.lines.length > 5 && (p.logs.lines = p.logs.lines.slice(Math.ceil(p.logs.lines.length / 2))) !== undefined],
  ['long log lines', (p) => !!p.logs?.lines.some((l) => l.line.length > 300) && p.logs.lines.forEach((l) => (l.line = l.line.length > 300 ? `${l.line.slice(0, 299)}…` : l.line)) === undefined],
  ['HTTP bodies', (p) => !!p.http?.responses.some((r) => r.body) && p.http.responses.forEach((r) => delete r.body) === undefined],
  ['events (oldest)', (p) => !!p.kubernetes && p.kubernetes.events.length > 5 && (p.kubernetes.events = p.kubernetes.events.slice(0, 5)) !== undefined],
  ['event messages', (p) => !!p.kubernetes?.events.some((e) => e.message.length > 200) && p.kubernetes.events.forEach((e) => (e.message = e.message.slice(0, 200))) === undefined],
  ['series', (p) => !!p.prometheus?.queries.some((q) => q.series.length > 5) && p.prometheus.queries.forEach((q) => (q.series = q.series.slice(0, 5))) === undefined],
  ['pods', (p) => !!p.kubernetes && p.kubernetes.pods.length > 3 && (p.kubernetes.pods = p.kubernetes.pods.slice(0, 3)) !== undefined],
  ['changes (oldest)', (p) => !!p.changes && p.changes.items.length > 5 && (p.changes.items = p.changes.items.slice(0, 5)) !== undefined && (p.changes.likelyCause === undefined || p.changes.likelyCause.index < 5 || delete p.changes.likelyCause)],
  ['logs', (p) => !!p.logs && delete p.logs],
  ['http', (p) => !!p.http && delete p.http],
  ['prometheus', (p) => !!p.prometheus && delete p.prometheus],
  ['kubernetes', (p) => !!p.kubernetes && delete p.kubernetes],
];

/** The pack within `maxBytes`, with what was cut named (a copy; the input is not changed). */
export function capPack(pack: EvidencePack, maxBytes = EVIDENCE_MAX_BYTES): EvidencePack {
  if (packBytes(pack) <= maxBytes) return pack;
  const p = JSON.parse(JSON.stringify(pack)) as EvidencePack;
  const cut = new Set(p.truncated ?? []);
  for (const [name, apply] of CUTS) {
    while (packBytes(p) > maxBytes && apply(p)) cut.add(name);
    if (packBytes(p) <= maxBytes) break;
  }
  p.truncated = [...cut];
  return p;
}
