// The evidence in a PagerDuty page's custom_details: the latest pack in full (the person paged
// needs nothing but the page and the thread), the moments collected so far, and what changed
// with the likely cause on top. Events API v2 takes at most 512 KB per event: the pack is cut
// to what the rest of the page leaves (src/evidence/cap.ts), or left out with the reason. Pure.
import type { TimelineEntry } from '../../workflows/contracts-timeline.js';
import { capPack, packBytes } from './cap.js';

/** Events API v2's limit on a whole event. */
export const PD_EVENT_MAX_BYTES = 512 * 1024;
/** Room kept for the envelope (routing key, links, summary, payload fields). */
const ENVELOPE = 8 * 1024;

export function pageEvidence(timeline: TimelineEntry[], rest: Record<string, unknown>): Record<string, unknown> {
  const packs = timeline.flatMap((e) => (e.kind === 'control.evidence' ? [e.data.evidence] : []));
  const latest = packs.at(-1);
  if (!latest) return {};
  const collected = packs.map((p) => (p.step !== undefined ? `${p.moment} (step ${p.step + 1})` : p.moment));
  const changes = latest.changes;
  const whatChanged = changes
    ? {
        window_minutes: Math.round(changes.windowMs / 60_000),
        ...(changes.likelyCause ? { likely_cause: { ...changes.items[changes.likelyCause.index], reason: changes.likelyCause.reason } } : {}),
        items: changes.items.map((c) => ({ at: new Date(c.at).toISOString(), kind: c.kind, what: c.what, detail: c.detail })),
      }
    : undefined;
  const budget = PD_EVENT_MAX_BYTES - ENVELOPE - packBytes(rest) - packBytes(whatChanged ?? {}) - packBytes(collected);
  if (budget < 1_024) return { evidence_collected: collected, evidence_left_out: `the page's other details leave ${Math.max(0, budget)} bytes of the 512 KB limit; the pack is in the Slack thread and the store` };
  return { evidence_collected: collected, ...(whatChanged ? { what_changed: whatChanged } : {}), evidence: capPack(latest, budget) };
}
