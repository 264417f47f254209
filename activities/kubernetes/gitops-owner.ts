// Who owns a workload in a GitOps cluster, read from the marks Argo CD and Flux leave on the
// objects they apply, and what the owner's last sync/reconcile was (a deployment marker). Pure.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { CustomObject } from './custom.js';

export type OwnerKind = 'Application' | 'Kustomization' | 'HelmRelease';

export interface OwnerRef {
  kind: OwnerKind;
  namespace: string;
  name: string;
  /** The field that named it, e.g. metadata.annotations["argocd.argoproj.io/tracking-id"]. */
  via: string;
  /** Only a label (app.kubernetes.io/instance, which Helm sets too): owned only if the
   * Application exists. */
  tentative?: boolean;
}

export const TRACKING_ID = 'argocd.argoproj.io/tracking-id';
export const INSTANCE = 'app.kubernetes.io/instance';
const FLUX = { Kustomization: 'kustomize.toolkit.fluxcd.io', HelmRelease: 'helm.toolkit.fluxcd.io' } as const;
/** Marks of GitOps tools medic cannot suspend or roll back through: refused, never ignored. */
const FOREIGN = ['fleet.cattle.io/', 'kapp.k14s.io/', 'config.kubernetes.io/owning-inventory', 'configsync.gke.io/'];

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ann = (k: string) => `metadata.annotations[${JSON.stringify(k)}]`;
const lab = (k: string) => `metadata.labels[${JSON.stringify(k)}]`;

export type Ownership = { owner: OwnerRef } | { none: true } | { problem: string; field: string };

/** Argo CD's tracking id: `<app>:<group>/<kind>:<namespace>/<name>`, `<app>` being
 * `<app-namespace>_<app-name>` for Applications outside Argo CD's own namespace. */
function fromTrackingId(v: string, argocdNamespace: string): Ownership {
  const field = ann(TRACKING_ID);
  const m = /^([^:]+):([^:]*)\/([^:/]+):([^:]*)\/([^:/]+)$/.exec(v);
  if (!m) return { problem: `${field} ${JSON.stringify(v.slice(0, 80))} is not an Argo CD tracking id (<app>:<group>/<kind>:<namespace>/<name>): unknown owner`, field };
  const app = m[1]!;
  const [ns, name] = app.includes('_') ? [app.slice(0, app.indexOf('_')), app.slice(app.indexOf('_') + 1)] : [argocdNamespace, app];
  if (!LABEL.test(ns) || !NAME.test(name)) return { problem: `${field} names Application ${JSON.stringify(app.slice(0, 80))}, not a valid Application name: unknown owner`, field };
  return { owner: { kind: 'Application', namespace: ns, name, via: field } };
}

/** The owner the workload's metadata names, none, or why it cannot be told. */
export function ownerOf(meta: V1ObjectMeta | undefined, argocdNamespace: string): Ownership {
  const labels = meta?.labels ?? {};
  const annotations = meta?.annotations ?? {};
  const found: OwnerRef[] = [];
  const tracking = annotations[TRACKING_ID];
  if (tracking !== undefined) {
    const o = fromTrackingId(tracking, argocdNamespace);
    if (!('owner' in o)) return o;
    found.push(o.owner);
  }
  for (const kind of ['Kustomization', 'HelmRelease'] as const) {
    const name = labels[`${FLUX[kind]}/name`];
    const namespace = labels[`${FLUX[kind]}/namespace`];
    if (name === undefined && namespace === undefined) continue;
    if (name === undefined || namespace === undefined || !NAME.test(name) || !LABEL.test(namespace)) {
      const field = lab(`${FLUX[kind]}/${name === undefined ? 'name' : 'namespace'}`);
      return { problem: `${field}: Flux ${kind} labels need a valid name and namespace (got name ${JSON.stringify(name ?? null)}, namespace ${JSON.stringify(namespace ?? null)}): unknown owner`, field };
    }
    found.push({ kind, namespace, name, via: lab(`${FLUX[kind]}/name`) });
  }
  // The Kustomization that applied a HelmRelease's objects labels them too: the HelmRelease owns them.
  const owners = found.some((o) => o.kind === 'HelmRelease') ? found.filter((o) => o.kind !== 'Kustomization') : found;
  if (owners.length > 1) {
    return { problem: `${owners.map((o) => o.via).join(' and ')} name different owners (${owners.map((o) => `${o.kind} ${o.namespace}/${o.name}`).join(', ')}): unknown owner`, field: owners[0]!.via };
  }
  if (owners[0]) return { owner: owners[0] };
  const foreign = [...Object.keys(labels).map((k) => ({ k, f: lab(k) })), ...Object.keys(annotations).map((k) => ({ k, f: ann(k) }))].find(({ k }) => FOREIGN.some((p) => k.startsWith(p)));
  if (foreign) return { problem: `${foreign.f}: the workload is managed by a GitOps tool medic does not support (unknown owner kind)`, field: foreign.f };
  const instance = labels[INSTANCE];
  if (instance !== undefined && NAME.test(instance)) return { owner: { kind: 'Application', namespace: argocdNamespace, name: instance, via: lab(INSTANCE), tentative: true } };
  return { none: true };
}

export interface SyncMarker {
  revision?: string;
  at?: string;
  /** A sync/reconcile is under way now. */
  running: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
type Cond = { type?: string; status?: string; reason?: string; lastTransitionTime?: string };
const ready = (o: CustomObject): Cond | undefined => ((o.status?.conditions as Cond[] | undefined) ?? []).find((c) => c.type === 'Ready');

/** The owner's last sync/reconcile: Argo CD operationState/history, Flux lastAppliedRevision. */
export function syncMarkerOf(kind: OwnerKind, o: CustomObject): SyncMarker {
  const st = o.status ?? {};
  if (kind === 'Application') {
    const op = st.operationState as { phase?: string; finishedAt?: string; startedAt?: string; syncResult?: { revision?: string } } | undefined;
    const history = (st.history as { revision?: string; deployedAt?: string }[] | undefined) ?? [];
    const last = history.at(-1);
    const revision = str(op?.syncResult?.revision) ?? str(last?.revision) ?? str((st.sync as { revision?: string } | undefined)?.revision);
    const at = str(op?.finishedAt) ?? str(op?.startedAt) ?? str(last?.deployedAt);
    return { ...(revision ? { revision } : {}), ...(at ? { at } : {}), running: o.operation !== undefined || op?.phase === 'Running' };
  }
  const r = ready(o);
  const running = r?.status === 'Unknown' || r?.reason === 'Progressing';
  if (kind === 'Kustomization') {
    const revision = str(st.lastAppliedRevision);
    const at = str(r?.lastTransitionTime);
    return { ...(revision ? { revision } : {}), ...(at ? { at } : {}), running: running || (str(st.lastAttemptedRevision) !== undefined && st.lastAttemptedRevision !== st.lastAppliedRevision) };
  }
  const h = ((st.history as { chartName?: string; chartVersion?: string; lastDeployed?: string }[] | undefined) ?? [])[0];
  const revision = h?.chartVersion ? `${h.chartName ?? 'chart'}@${h.chartVersion}` : undefined;
  const at = str(h?.lastDeployed) ?? str(r?.lastTransitionTime);
  return { ...(revision ? { revision } : {}), ...(at ? { at } : {}), running };
}

export const describeOwner = (o: OwnerRef): string => `${o.kind === 'Application' ? 'Argo CD' : 'Flux'} ${o.kind} ${o.namespace}/${o.name}`;
