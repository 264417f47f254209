// GitOps-aware workload actions: before changing a workload, find who owns it (gitops-owner.ts)
// and do what the playbook says — suspend the owner's sync/reconciliation, act, and let a durable
// workflow timer resume it (suspend-then-act); roll back through the owner (Argo CD sync to the
// previous revision of status.history, Flux HelmRelease pinned to the previous chart version);
// or refuse, naming the owner. Otherwise Argo CD's self-heal or Flux's next reconcile reverts
// medic's patch minutes later. Every change to an owner is stamped (stamped-patch.ts) and the
// suspended sync policy remembered on the owner itself, so a repeat or a resume is idempotent.
import { ApplicationFailure } from '@temporalio/activity';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { describeChanges, type GitopsFacts, type K8sActionResult } from './changes.js';
import { customClient, GVR, stampedCustomPatch, type CustomObject } from './custom.js';
import type { KubeClients } from './client.js';
import { describeOwner, ownerOf, syncMarkerOf, type OwnerRef, type SyncMarker } from './gitops-owner.js';
import type { Plan } from './stamped-patch.js';
import type { ActionCommon } from './workloads.js';

export type GitopsMode = 'suspend-then-act' | 'rollback-through-gitops' | 'refuse';

/** Where medic remembers what it suspended: JSON {by, automated?}. */
export const SUSPENDED = 'medic.dev/gitops-suspended';

export interface GitopsUndo {
  kind: 'gitops-resume';
  owner: OwnerRef;
  /** The suspend's idempotency key: only that suspension is resumed. */
  suspendedBy: string;
}

export interface GitopsOptions {
  gitops: GitopsMode;
  /** Default 30 minutes. */
  resumeAfterMs?: number;
}

const gvrOf = (o: OwnerRef) => (o.kind === 'Application' ? GVR.application : o.kind === 'Kustomization' ? GVR.kustomization : GVR.helmRelease);

const fail = (type: string, message: string, extra: Record<string, unknown> = {}): ApplicationFailure =>
  ApplicationFailure.create({ type, nonRetryable: true, message, details: [extra] });

const remembered = (o: CustomObject): { by?: string; automated?: unknown } | undefined => {
  const v = o.metadata?.annotations?.[SUSPENDED];
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as { by?: string; automated?: unknown };
  } catch {
    return {};
  }
};

export function createGitopsActions(c: KubeClients, requestTimeoutMs: number, argocdNamespace: string) {
  const api = customClient(c, requestTimeoutMs);

  const ownerPatch = (owner: OwnerRef, op: string, o: ActionCommon, roots: string[][], plan: (obj: CustomObject) => Plan) =>
    stampedCustomPatch(api, { g: gvrOf(owner), namespace: owner.namespace, name: owner.name, field: owner.via, object: describeOwner(owner) }, { op, idempotencyKey: o.idempotencyKey, dryRun: o.dryRun, roots, plan });

  /** Flux: spec.suspend=true. Argo CD: spec.syncPolicy.automated removed (self-heal off), its value remembered. */
  const suspend = (owner: OwnerRef, o: ActionCommon) =>
    ownerPatch(owner, 'gitops-suspend', o, [['spec', 'suspend'], ['spec', 'syncPolicy']], (obj) => {
      if (owner.kind !== 'Application') {
        if (obj.spec?.suspend === true) return { noop: 'reconciliation already suspended' };
        return { merge: { spec: { suspend: true }, metadata: { annotations: { [SUSPENDED]: JSON.stringify({ by: o.idempotencyKey }) } } } };
      }
      const automated = (obj.spec?.syncPolicy as { automated?: unknown } | undefined)?.automated;
      if (automated === undefined || automated === null) return { noop: 'automated sync already off' };
      return { merge: { spec: { syncPolicy: { automated: null } }, metadata: { annotations: { [SUSPENDED]: JSON.stringify({ by: o.idempotencyKey, automated }) } } } };
    });

  /** Undoes medic's own suspension (the one stamped `suspendedBy`); anyone else's is left alone. */
  const k8sGitopsResume = (u: GitopsUndo, o: ActionCommon): Promise<K8sActionResult> =>
    ownerPatch(u.owner, 'gitops-resume', o, [['spec', 'suspend'], ['spec', 'syncPolicy']], (obj) => {
      const r = remembered(obj);
      if (!r) return { noop: 'not suspended by medic (resumed already)' };
      if (r.by !== u.suspendedBy) return { noop: `suspended by another medic action (${r.by ?? '?'}), which resumes it` };
      const meta = { annotations: { [SUSPENDED]: null } };
      if (u.owner.kind !== 'Application') return { merge: { spec: { suspend: false }, metadata: meta } };
      return { merge: { spec: { syncPolicy: { automated: r.automated ?? {} } }, metadata: meta } };
    });

  /** Argo CD: automated sync off (remembered) and a sync operation to the previous revision of
   * status.history, as `argocd app rollback` does. Flux HelmRelease: the chart pinned to the
   * previous release's version. A Flux Kustomization has no revision to go back to but git's. */
  const rollbackVia = (owner: OwnerRef, obj: CustomObject, o: ActionCommon, reason: string) => {
    if (owner.kind === 'Kustomization') {
      throw fail('GitopsRollbackUnsupported', `${describeOwner(owner)} (named by ${owner.via}) owns the workload: a Kustomization applies what its source holds, so rolling back means reverting git; use gitops: suspend-then-act or refuse. Nothing was changed`, { owner });
    }
    if (owner.kind === 'Application') {
      const history = (obj.status?.history as { id?: number; revision?: string; source?: unknown }[] | undefined) ?? [];
      const current = history.at(-1);
      const previous = [...history].reverse().find((h) => h.revision !== undefined && h.revision !== current?.revision);
      if (!previous?.revision) {
        throw fail('GitopsNoPreviousRevision', `${describeOwner(owner)}: status.history holds no revision before ${current?.revision ?? 'the current one'}; nothing was changed`, { owner });
      }
      return ownerPatch(owner, 'gitops-rollback', o, [['spec', 'syncPolicy'], ['operation']], (cur) => {
        if (cur.operation !== undefined) throw fail('GitopsSyncRunning', `${describeOwner(owner)}: a sync operation is already running (a deployment is in progress); nothing was changed`, { owner });
        const automated = (cur.spec?.syncPolicy as { automated?: unknown } | undefined)?.automated;
        const keep = automated !== undefined && automated !== null ? { [SUSPENDED]: JSON.stringify({ by: o.idempotencyKey, automated }) } : {};
        return {
          merge: {
            spec: { syncPolicy: { automated: null } },
            metadata: { annotations: keep },
            operation: {
              initiatedBy: { username: 'medic' },
              info: [{ name: 'Reason', value: reason.slice(0, 200) }],
              sync: { revision: previous.revision, ...(previous.source ? { source: previous.source } : {}) },
            },
          },
        };
      });
    }
    const history = (obj.status?.history as { chartVersion?: string; version?: number }[] | undefined) ?? [];
    const [current, previous] = history;
    if (!previous?.chartVersion) throw fail('GitopsNoPreviousRevision', `${describeOwner(owner)}: status.history holds no release before ${current?.chartVersion ?? 'the current one'}; nothing was changed`, { owner });
    if (!(obj.spec?.chart as { spec?: unknown } | undefined)?.spec) throw fail('GitopsRollbackUnsupported', `${describeOwner(owner)}: spec.chart.spec is absent (chartRef): medic cannot pin a version; nothing was changed`, { owner });
    if (previous.chartVersion === current?.chartVersion) {
      throw fail('GitopsRollbackUnsupported', `${describeOwner(owner)}: the previous release (${previous.version ?? '?'}) has the same chart version ${previous.chartVersion}, so pinning cannot roll it back; nothing was changed`, { owner });
    }
    return ownerPatch(owner, 'gitops-rollback', o, [['spec', 'chart']], (cur) => {
      const pinned = (cur.spec?.chart as { spec?: { version?: string } }).spec?.version;
      if (pinned === previous.chartVersion) return { noop: `chart already pinned to ${pinned}` };
      return { merge: { spec: { chart: { spec: { version: previous.chartVersion } } } } };
    });
  };

  /** Runs `act` on the workload the GitOps way the playbook says. `meta` is the workload's. */
  async function withGitops(
    what: string,
    meta: V1ObjectMeta | undefined,
    opts: GitopsOptions & ActionCommon & { reason: string; resumeAfter?: string },
    act: (() => Promise<K8sActionResult>) | undefined,
  ): Promise<K8sActionResult> {
    const started = Date.now();
    const own = ownerOf(meta, argocdNamespace);
    if ('problem' in own) throw fail('GitopsOwnerUnknown', `${what}: ${own.problem}; nothing was changed`, { field: own.field });
    let owner = 'owner' in own ? own.owner : undefined;
    let obj: CustomObject | undefined;
    if (owner) {
      // A tentative owner (the instance label) whose CRD or object is missing is Helm's label.
      obj = owner.tentative ? await api.get(gvrOf(owner), owner.namespace, owner.name, owner.via).catch(() => undefined) : await api.get(gvrOf(owner), owner.namespace, owner.name, owner.via);
      if (!obj && !owner.tentative) throw fail('GitopsOwnerNotFound', `${what}: ${owner.via} names ${describeOwner(owner)}, which does not exist; nothing was changed`, { field: owner.via });
      if (!obj) owner = undefined;
    }
    if (!owner || !obj) {
      if (!act) throw fail('GitopsNotOwned', `${what}: no Argo CD or Flux owner found, so there is nothing to roll back through; use gitops: suspend-then-act (which then just acts) or no gitops option`);
      const r = await act();
      return { ...r, gitops: { owner: 'none', did: 'acted directly (no GitOps owner)' } };
    }
    const sync: SyncMarker = syncMarkerOf(owner.kind, obj);
    const facts = (did: string): GitopsFacts => ({ owner: `${describeOwner(owner)} (via ${owner.via})`, did, lastSync: sync });
    const lastSync = `${sync.running ? 'syncing' : 'last synced'} ${sync.revision ?? '?'}${sync.at ? ` at ${sync.at}` : ''}`;
    if (opts.gitops === 'refuse') {
      throw fail('GitopsOwned', `${what} is owned by ${describeOwner(owner)} (named by ${owner.via}; ${lastSync}); the playbook says refuse: change it through git. Nothing was changed`, { owner, sync });
    }
    if (sync.running) {
      throw fail('GitopsSyncRunning', `${what}: ${describeOwner(owner)} is ${lastSync}: a deployment is in progress, medic stands back; nothing was changed`, { owner, sync });
    }
    const ownerKey = { ...opts, idempotencyKey: `${opts.idempotencyKey}:${opts.gitops}` };
    const resume = (did: K8sActionResult) =>
      !opts.dryRun && (did.changes.length > 0 || did.alreadyDone)
        ? { undo: { spec: { kind: 'gitops-resume' as const, owner, suspendedBy: ownerKey.idempotencyKey }, when: { afterMs: opts.resumeAfterMs ?? 30 * 60_000 } } }
        : {};
    if (opts.gitops === 'rollback-through-gitops') {
      const r = await rollbackVia(owner, obj, ownerKey, opts.reason);
      const undo = owner.kind === 'Application' ? resume(r) : {};
      // The diff of an Argo CD operation is long; the timeline line says what it means.
      const to = r.changes.find((ch) => ch.path === 'operation.sync.revision')?.after;
      const summary =
        owner.kind === 'Application' && typeof to === 'string' && !r.alreadyDone
          ? `${r.dryRun ? 'dry run: would ' : ''}gitops-rollback ${describeOwner(owner)}: sync to the previous revision ${to} (from ${sync.revision ?? '?'}), automated sync off${'undo' in undo ? ` until resumed in ${opts.resumeAfter ?? '30m'}` : ''}`
          : r.summary;
      return { ...r, summary, gitops: facts(`rolled back through ${owner.kind}`), ...undo };
    }
    const s = await suspend(owner, ownerKey);
    if (!act) throw fail('GitopsBadInput', `${what}: nothing to act with`);
    let r: K8sActionResult;
    try {
      r = await act();
    } catch (err) {
      // No undo workflow starts for a failed step: resume now rather than leave the owner suspended
      // (a retried attempt suspends again under the same key).
      if (!opts.dryRun && (s.changes.length > 0 || s.alreadyDone)) {
        await k8sGitopsResume({ kind: 'gitops-resume', owner, suspendedBy: ownerKey.idempotencyKey }, { ...ownerKey, idempotencyKey: `${ownerKey.idempotencyKey}:resume-after-failure` }).catch(() => undefined);
      }
      throw err;
    }
    return {
      ...r,
      durationMs: Date.now() - started,
      summary: `${s.summary}; then ${r.summary}`,
      changes: [...s.changes.map((ch) => ({ ...ch, path: `${owner.kind}.${ch.path}` })), ...r.changes],
      gitops: facts(s.changes.length > 0 || s.alreadyDone ? `suspended (${describeChanges(s.changes)}), then acted` : 'already suspended by someone else; acted'),
      ...resume(s),
    };
  }

  return { withGitops, k8sGitopsResume };
}
