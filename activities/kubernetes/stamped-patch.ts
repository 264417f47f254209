// The shape every mutating Kubernetes action shares: read the object, and unless it already
// carries this step's stamp, patch the change *and* the stamp in one request, guarded by the
// resourceVersion it read (a concurrent writer makes it re-read instead of overwriting). A retried
// activity whose earlier attempt got through finds its own stamp and reports "already done";
// a dry run sends the same patch with dryRun=All, so the server validates and defaults it and
// answers with the object it would store, and nothing changes.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { apiStatusOf, k8sError } from './client.js';
import { describeChanges, diffObjects, ownStamp, stampAnnotations, type K8sActionResult, type K8sChange } from './changes.js';

export interface HasMeta {
  metadata?: V1ObjectMeta;
}

export type JsonPatchOp = { op: 'add' | 'replace' | 'remove' | 'test'; path: string; value?: unknown };

/** What to send: a JSON merge patch, or a JSON patch (RFC 6902) with the object it intends. */
export type Plan = { merge: Record<string, unknown> } | { json: JsonPatchOp[]; intended: unknown } | { noop: string };

export interface StampedPatch<T extends HasMeta> {
  /** Short verb for the stamp and the summary: "restart", "scale", … */
  op: string;
  /** "Deployment shop/web" */
  object: string;
  idempotencyKey: string;
  dryRun: boolean;
  /** Where changes are looked for, e.g. [['spec'], ['metadata', 'annotations']]. */
  roots: string[][];
  read: () => Promise<T>;
  patch: (body: unknown, type: 'merge' | 'json', dryRun: boolean) => Promise<T>;
  plan: (before: T) => Plan;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** RFC 7386 applied locally, to know what a merge patch will change before sending it. */
export function applyMerge(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMerge(out[k], v);
  }
  return out;
}

const pointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

function withStamp(plan: Exclude<Plan, { noop: string }>, before: HasMeta, stamp: Record<string, string>): { body: unknown; type: 'merge' | 'json' } {
  const resourceVersion = before.metadata?.resourceVersion;
  if ('merge' in plan) {
    const meta = isRecord(plan.merge.metadata) ? plan.merge.metadata : {};
    const annotations = isRecord(meta.annotations) ? meta.annotations : {};
    return { type: 'merge', body: { ...plan.merge, metadata: { ...meta, resourceVersion, annotations: { ...annotations, ...stamp } } } };
  }
  const stampOps: JsonPatchOp[] = before.metadata?.annotations
    ? Object.entries(stamp).map(([k, v]) => ({ op: 'add', path: `/metadata/annotations/${pointer(k)}`, value: v }))
    : [{ op: 'add', path: '/metadata/annotations', value: stamp }];
  return { type: 'json', body: [{ op: 'test', path: '/metadata/resourceVersion', value: resourceVersion }, ...plan.json, ...stampOps] };
}

const CONFLICT_RETRIES = 3;

export async function stampedPatch<T extends HasMeta>(o: StampedPatch<T>): Promise<K8sActionResult> {
  const started = Date.now();
  const result = (changes: K8sChange[], extra: Partial<K8sActionResult> & { summary: string }): K8sActionResult => ({
    durationMs: Date.now() - started,
    dryRun: o.dryRun,
    alreadyDone: false,
    object: o.object,
    changes,
    ...extra,
  });
  for (let attempt = 1; ; attempt++) {
    const before = await o.read();
    const earlier = ownStamp(before.metadata?.annotations, o.idempotencyKey);
    if (earlier && !o.dryRun) {
      return result(earlier.changes, {
        alreadyDone: true,
        summary: `${o.op} ${o.object}: already done by an earlier attempt of this step at ${earlier.at} (${describeChanges(earlier.changes)}); not repeated`,
      });
    }
    const plan = o.plan(before);
    if ('noop' in plan) return result([], { summary: `${o.op} ${o.object}: ${plan.noop}; nothing to do` });
    const intended = 'merge' in plan ? applyMerge(before, plan.merge) : plan.intended;
    const expected = diffObjects(before, intended, o.roots);
    const { body, type } = withStamp(plan, before, stampAnnotations(o.idempotencyKey, o.op, expected));
    let after: T;
    try {
      after = await o.patch(body, type, o.dryRun);
    } catch (err) {
      // Someone else wrote in between: 409 for a merge patch whose resourceVersion moved on; a bare
      // 422 for a JSON patch whose `test` op failed (told apart from a really invalid patch by
      // reading again). Read again: the object may now carry our own stamp, or a new state.
      const code = apiStatusOf(err)?.code;
      const raced =
        attempt < CONFLICT_RETRIES &&
        (code === 409 || (type === 'json' && code === 422 && (await o.read()).metadata?.resourceVersion !== before.metadata?.resourceVersion));
      if (raced) continue;
      throw k8sError(`patch ${o.object}`, err);
    }
    const changes = diffObjects(before, after, o.roots);
    return result(changes, { summary: `${o.dryRun ? 'dry run: would ' : ''}${o.op} ${o.object}: ${describeChanges(changes)}` });
  }
}
