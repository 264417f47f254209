// "What changed" before the alert: changes from every source (ReplicaSet revisions, ConfigMaps,
// Argo Rollouts, Unleash's event log, medic's own earlier actions, deployment markers) in the
// window, newest first, at most MAX_CHANGES; the newest one that belongs to the alert's service
// is called out as the likely cause. Pure.
import type { Change, EvidencePack } from './schema.js';

export const MAX_CHANGES = 15;
/** Changes at the same time (second resolution) are listed, and picked as the cause, in this order. */
const PRIORITY: Change['kind'][] = ['image', 'env', 'configmap', 'rollout', 'flag', 'revision', 'marker', 'medic'];

export function whatChanged(all: Change[], o: { at: number; windowMs: number; service?: string | undefined }): NonNullable<EvidencePack['changes']> {
  const since = o.at - o.windowMs;
  const items = all
    .filter((c) => c.at >= since && c.at <= o.at)
    .sort((a, b) => b.at - a.at || PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind))
    .slice(0, MAX_CHANGES);
  // medic's own actions are context, never the cause it looks for.
  const index = items.findIndex((c) => c.kind !== 'medic' && o.service !== undefined && o.service !== '' && (c.service === o.service || c.what.includes(o.service)));
  const hit = items[index];
  return {
    windowMs: o.windowMs,
    items,
    ...(hit ? { likelyCause: { index, reason: `${hit.kind} change on ${hit.what} ${Math.max(0, Math.round((o.at - hit.at) / 60_000))}m before the alert matches service ${o.service}` } } : {}),
  };
}
