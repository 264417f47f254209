// Custom resources other projects define (Istio, Argo CD, Flux, Argo Rollouts): read and patch
// through CustomObjectsApi, telling "the CRD is not installed" apart from "no such object" — both
// are 404s, but only an object's 404 names the object in the Status details.
import { ApplicationFailure } from '@temporalio/activity';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { apiStatusOf, k8sError, requestOptions, type KubeClients } from './client.js';
import type { K8sActionResult } from './changes.js';
import { stampedPatch, type Plan } from './stamped-patch.js';

export interface Gvr {
  group: string;
  version: string;
  plural: string;
  /** "VirtualService", for messages. */
  kind: string;
}

export interface CustomObject {
  metadata?: V1ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  operation?: unknown;
}

export const GVR = {
  virtualService: { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', kind: 'VirtualService' },
  destinationRule: { group: 'networking.istio.io', version: 'v1', plural: 'destinationrules', kind: 'DestinationRule' },
  application: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', kind: 'Application' },
  kustomization: { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations', kind: 'Kustomization' },
  helmRelease: { group: 'helm.toolkit.fluxcd.io', version: 'v2', plural: 'helmreleases', kind: 'HelmRelease' },
  rollout: { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', kind: 'Rollout' },
} as const satisfies Record<string, Gvr>;

export const crdName = (g: Gvr): string => `${g.plural}.${g.group}`;

/** A 404 whose Status names no object: the resource type itself is unknown to the API server. */
export function isCrdMissing(err: unknown): boolean {
  const api = apiStatusOf(err);
  return api?.code === 404 && !(api.status as { details?: { name?: string } }).details?.name;
}

export const crdMissing = (g: Gvr, field: string): ApplicationFailure =>
  ApplicationFailure.create({
    type: 'KubernetesCrdMissing',
    nonRetryable: true,
    message: `${field}: the ${g.kind} CRD (${crdName(g)}, ${g.group}/${g.version}) is not installed on this cluster; nothing was changed`,
    details: [{ crd: crdName(g), field }],
  });

export function customClient(c: KubeClients, requestTimeoutMs: number) {
  const opts = (patch?: 'merge' | 'json') => requestOptions(requestTimeoutMs, patch);
  const ref = (g: Gvr, namespace: string, name: string) => ({ group: g.group, version: g.version, plural: g.plural, namespace, name });
  return {
    /** The object; a missing CRD fails naming `field`; a missing object is undefined. */
    async get(g: Gvr, namespace: string, name: string, field: string): Promise<CustomObject | undefined> {
      try {
        return (await c.custom.getNamespacedCustomObject(ref(g, namespace, name), opts())) as CustomObject;
      } catch (err) {
        if (isCrdMissing(err)) throw crdMissing(g, field);
        if (apiStatusOf(err)?.code === 404) return undefined;
        throw k8sError(`get ${g.kind} ${namespace}/${name}`, err);
      }
    },
    /** Like get, but a missing object is a clear non-retryable failure naming `field`. */
    async read(g: Gvr, namespace: string, name: string, field: string): Promise<CustomObject> {
      const o = await this.get(g, namespace, name, field);
      if (o) return o;
      throw ApplicationFailure.create({
        type: 'KubernetesNotFound',
        nonRetryable: true,
        message: `${field}: ${g.kind} ${namespace}/${name} not found; nothing was changed`,
        details: [{ field, object: `${g.kind} ${namespace}/${name}` }],
      });
    },
    /** Raw errors (stampedPatch needs the 409/422 to re-read). */
    patch(g: Gvr, namespace: string, name: string, body: unknown, type: 'merge' | 'json', dryRun: boolean): Promise<CustomObject> {
      return c.custom.patchNamespacedCustomObject({ ...ref(g, namespace, name), body, ...(dryRun ? { dryRun: 'All' } : {}) }, opts(type)) as Promise<CustomObject>;
    },
    /** The objects of a kind in a namespace; [] when its CRD is not installed. */
    async list(g: Gvr, namespace: string): Promise<CustomObject[]> {
      try {
        const r = (await c.custom.listNamespacedCustomObject({ group: g.group, version: g.version, plural: g.plural, namespace }, opts())) as { items?: CustomObject[] };
        return r.items ?? [];
      } catch (err) {
        if (isCrdMissing(err)) return [];
        throw k8sError(`list ${g.kind} in ${namespace}`, err);
      }
    },
  };
}
export type CustomClient = ReturnType<typeof customClient>;

/** One custom object to change with a stamped patch; a missing object is named by `field`. */
export interface CustomTarget {
  g: Gvr;
  namespace: string;
  name: string;
  field: string;
  /** For the stamp and summary; default "<Kind> <namespace>/<name>". */
  object?: string;
}

/** stampedPatch on a custom object through `api` (read, patch and the object's name in one place). */
export function stampedCustomPatch(
  api: CustomClient,
  t: CustomTarget,
  o: { op: string; idempotencyKey: string; dryRun: boolean; roots: string[][]; plan: (before: CustomObject) => Plan },
): Promise<K8sActionResult> {
  return stampedPatch<CustomObject>({
    ...o,
    object: t.object ?? `${t.g.kind} ${t.namespace}/${t.name}`,
    read: () => api.read(t.g, t.namespace, t.name, t.field),
    patch: (body, type, dryRun) => api.patch(t.g, t.namespace, t.name, body, type, dryRun),
  });
}
