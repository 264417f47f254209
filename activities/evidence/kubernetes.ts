// Read-only Kubernetes evidence: the target's pods (phase, container state and last state —
// OOMKilled, CrashLoopBackOff, exit codes, restarts), its recent events, the owner chain, the
// conditions of its nodes, and what changed before the alert (ReplicaSet revisions with the
// image and env diff, ConfigMaps by their managedFields times, an Argo Rollout's step). Every
// request carries a deadline (requestOptions); a 404 is an answer, not a failure.
import type { V1Container, V1ContainerStatus, V1Pod, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { call, callOrNotFound, requestOptions, type KubeClients } from '../kubernetes/client.js';
import type { EvidenceRequest } from '../../src/evidence/request.js';
import type { Change, EvidencePack } from '../../src/evidence/schema.js';

type K8sEvidence = NonNullable<EvidencePack['kubernetes']>;
const MAX_PODS = 10;
const MAX_EVENTS = 20;
const REVISION = 'deployment.kubernetes.io/revision';
const ms = (t: Date | string | undefined): number => (t ? new Date(t).getTime() : 0);

function container(s: V1ContainerStatus): K8sEvidence['pods'][number]['containers'][number] {
  const st = s.state ?? {};
  const state = st.running ? 'running' : st.waiting ? 'waiting' : st.terminated ? 'terminated' : 'unknown';
  const reason = st.waiting?.reason ?? st.terminated?.reason;
  const last = s.lastState?.terminated;
  return {
    name: s.name,
    ready: s.ready,
    restarts: s.restartCount,
    state,
    ...(reason ? { reason } : {}),
    ...(st.terminated?.exitCode !== undefined ? { exitCode: st.terminated.exitCode } : {}),
    ...(last
      ? { lastState: { ...(last.reason ? { reason: last.reason } : {}), exitCode: last.exitCode, ...(last.finishedAt ? { finishedAt: new Date(last.finishedAt).toISOString() } : {}) } }
      : {}),
  };
}

const podOf = (p: V1Pod): K8sEvidence['pods'][number] => {
  const containers = (p.status?.containerStatuses ?? []).map(container);
  return {
    name: p.metadata?.name ?? '?',
    phase: p.status?.phase ?? 'Unknown',
    ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
    restarts: containers.reduce((n, c) => n + c.restarts, 0),
    containers,
  };
};

const selectorOf = (labels: Record<string, string> | undefined): string =>
  Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** What differs between two pod templates: images and env, per container. */
export function templateDiff(before: V1PodTemplateSpec | undefined, after: V1PodTemplateSpec | undefined): { image: string[]; env: string[] } {
  const byName = (t: V1PodTemplateSpec | undefined) => new Map((t?.spec?.containers ?? []).map((c: V1Container) => [c.name, c]));
  const a = byName(before);
  const b = byName(after);
  const image: string[] = [];
  const env: string[] = [];
  for (const [name, c] of b) {
    const old = a.get(name);
    if (old?.image !== c.image) image.push(`${name}: ${old?.image ?? '—'} → ${c.image ?? '—'}`);
    const envOf = (x: V1Container | undefined) => new Map((x?.env ?? []).map((e) => [e.name, e.value ?? (e.valueFrom ? '(from a reference)' : '')]));
    const ea = envOf(old);
    const eb = envOf(c);
    for (const [k, v] of eb) if (ea.get(k) !== v) env.push(`${name}: ${k}=${ea.has(k) ? `${ea.get(k)} → ` : ''}${v}`);
    for (const k of ea.keys()) if (!eb.has(k)) env.push(`${name}: ${k} removed`);
  }
  return { image, env };
}

/** Revisions of a Deployment's ReplicaSets, oldest first, as changes (image, env, or a bare revision). */
export function revisionChanges(where: string, sets: V1ReplicaSet[], service: string | undefined): Change[] {
  const sorted = sets
    .filter((rs) => rs.metadata?.annotations?.[REVISION])
    .sort((x, y) => Number(x.metadata!.annotations![REVISION]) - Number(y.metadata!.annotations![REVISION]));
  const out: Change[] = [];
  for (const [i, rs] of sorted.entries()) {
    if (i === 0) continue;
    const d = templateDiff(sorted[i - 1]!.spec?.template, rs.spec?.template);
    const at = ms(rs.metadata?.creationTimestamp);
    const rev = `revision ${rs.metadata!.annotations![REVISION]}`;
    const base = { at, what: `${where} ${rev}`, ...(service ? { service } : {}) };
    if (d.image.length > 0) out.push({ ...base, kind: 'image', detail: `image ${d.image.join('; ')}${d.env.length ? `; env ${d.env.join('; ')}` : ''}` });
    else if (d.env.length > 0) out.push({ ...base, kind: 'env', detail: `env ${d.env.join('; ')}` });
    else out.push({ ...base, kind: 'revision', detail: 'new ReplicaSet (template changed outside image and env)' });
  }
  return out;
}

export function createKubernetesEvidence(c: KubeClients, defaultNamespace: string) {
  return async function kubernetesEvidence(req: EvidenceRequest): Promise<{ kubernetes: K8sEvidence; changes: Change[] }> {
    const k = req.kubernetes!;
    const ns = k.namespace ?? defaultNamespace;
    const opts = () => requestOptions(req.timeoutMs);
    const where = `${k.kind} ${ns}/${k.name}`;
    const owners: string[] = [];
    const changes: Change[] = [];
    let pods: V1Pod[] = [];
    let template: V1PodTemplateSpec | undefined;
    const related = new Set<string>([k.name]);
    if (k.kind === 'Pod') {
      const pod = await call(`get pod ${ns}/${k.name}`, () => c.core.readNamespacedPod({ namespace: ns, name: k.name }, opts()));
      pods = [pod];
    } else {
      const read = k.kind === 'Deployment' ? c.apps.readNamespacedDeployment.bind(c.apps) : k.kind === 'StatefulSet' ? c.apps.readNamespacedStatefulSet.bind(c.apps) : c.apps.readNamespacedDaemonSet.bind(c.apps);
      const obj = await call(`get ${where}`, () => read({ namespace: ns, name: k.name }, opts()));
      template = obj.spec?.template;
      const selector = selectorOf(obj.spec?.selector?.matchLabels);
      pods = (await call(`list pods ${ns} -l ${selector}`, () => c.core.listNamespacedPod({ namespace: ns, labelSelector: selector, limit: 50 }, opts()))).items;
      if (k.kind === 'Deployment') {
        const sets = (await call(`list replicasets ${ns}`, () => c.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: selector }, opts()))).items.filter((rs) =>
          rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === k.name),
        );
        for (const rs of sets) related.add(rs.metadata?.name ?? '');
        changes.push(...revisionChanges(where, sets, req.service));
      }
    }
    // The owner chain, from the first pod up (Pod → ReplicaSet → Deployment).
    const first = pods[0];
    if (first) {
      owners.push(`Pod/${first.metadata?.name}`);
      let ref = first.metadata?.ownerReferences?.find((o) => o.controller);
      for (let depth = 0; ref && depth < 4; depth++) {
        owners.push(`${ref.kind}/${ref.name}`);
        if (ref.kind !== 'ReplicaSet') break;
        const name = ref.name;
        const rs = await callOrNotFound(`get replicaset ${ns}/${name}`, () => c.apps.readNamespacedReplicaSet({ namespace: ns, name }, opts()));
        ref = rs?.metadata?.ownerReferences?.find((o) => o.controller);
      }
    }
    for (const p of pods) related.add(p.metadata?.name ?? '');
    const events = (await call(`list events ${ns}`, () => c.core.listNamespacedEvent({ namespace: ns, limit: 500 }, opts()))).items
      .filter((e) => related.has(e.involvedObject.name ?? ''))
      .map((e) => ({
        at: new Date(ms(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp)).toISOString(),
        type: e.type ?? 'Normal',
        reason: e.reason ?? '',
        object: `${e.involvedObject.kind}/${e.involvedObject.name}`,
        message: e.message ?? '',
        count: Math.max(1, e.count ?? 1),
      }))
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, MAX_EVENTS);
    const nodes: K8sEvidence['nodes'] = [];
    for (const name of [...new Set(pods.flatMap((p) => (p.spec?.nodeName ? [p.spec.nodeName] : [])))].slice(0, 5)) {
      const node = await callOrNotFound(`get node ${name}`, () => c.core.readNode({ name }, opts()));
      const bad = (node?.status?.conditions ?? []).filter((x) => (x.type === 'Ready' ? x.status !== 'True' : x.status === 'True'));
      nodes.push({ name, conditions: bad.map((x) => ({ type: x.type, status: x.status, ...(x.reason ? { reason: x.reason } : {}) })) });
    }
    changes.push(...(await configMapChanges(c, ns, template, req, opts)));
    if (k.kind === 'Deployment') changes.push(...(await rolloutChanges(c, ns, k.name, req, opts)));
    return {
      kubernetes: { target: { kind: k.kind, namespace: ns, name: k.name }, owners, pods: pods.slice(0, MAX_PODS).map(podOf), events, nodes },
      changes,
    };
  };
}

/** ConfigMaps the template uses (else all in the namespace), changed within the window: the
 * newest managedFields time says when and which manager wrote it. */
async function configMapChanges(c: KubeClients, ns: string, template: V1PodTemplateSpec | undefined, req: EvidenceRequest, opts: () => ReturnType<typeof requestOptions>): Promise<Change[]> {
  const spec = template?.spec;
  const used = new Set<string>([
    ...(spec?.volumes ?? []).flatMap((v) => (v.configMap?.name ? [v.configMap.name] : [])),
    ...(spec?.containers ?? []).flatMap((ct) => [
      ...(ct.envFrom ?? []).flatMap((e) => (e.configMapRef?.name ? [e.configMapRef.name] : [])),
      ...(ct.env ?? []).flatMap((e) => (e.valueFrom?.configMapKeyRef?.name ? [e.valueFrom.configMapKeyRef.name] : [])),
    ]),
  ]);
  const list = (await call(`list configmaps ${ns}`, () => c.core.listNamespacedConfigMap({ namespace: ns, limit: 200 }, opts()))).items;
  const since = req.at - req.changes.windowMs;
  const out: Change[] = [];
  for (const cm of list) {
    const name = cm.metadata?.name ?? '';
    if ((used.size > 0 && !used.has(name)) || name === 'kube-root-ca.crt') continue;
    const writes = (cm.metadata?.managedFields ?? []).map((f) => ({ at: ms(f.time), by: f.manager ?? '?' })).sort((a, b) => b.at - a.at);
    const last = writes[0];
    if (!last || last.at < since || last.at > req.at) continue;
    out.push({ at: last.at, kind: 'configmap', what: `ConfigMap ${ns}/${name}`, detail: `${ms(cm.metadata?.creationTimestamp) < last.at ? 'changed' : 'created or changed'} by ${last.by} (managedFields)`, ...(used.has(name) && req.service ? { service: req.service } : {}) });
  }
  return out;
}

interface Rollout {
  spec?: { strategy?: { canary?: { steps?: unknown[] } } };
  status?: { currentStepIndex?: number; phase?: string; message?: string; conditions?: { type: string; status: string; lastUpdateTime?: string; reason?: string }[] };
}

/** An Argo Rollout of the same name (the CRD may not be installed: then nothing). */
async function rolloutChanges(c: KubeClients, ns: string, name: string, req: EvidenceRequest, opts: () => ReturnType<typeof requestOptions>): Promise<Change[]> {
  const r = (await callOrNotFound(`get rollout ${ns}/${name}`, () =>
    c.custom.getNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name }, opts()),
  ).catch(() => undefined)) as Rollout | undefined;
  if (!r?.status) return [];
  const at = Math.max(0, ...(r.status.conditions ?? []).map((x) => ms(x.lastUpdateTime)));
  if (at < req.at - req.changes.windowMs) return [];
  const steps = r.spec?.strategy?.canary?.steps?.length;
  const step = r.status.currentStepIndex !== undefined ? `step ${r.status.currentStepIndex}${steps ? `/${steps}` : ''}` : 'no step';
  return [{ at, kind: 'rollout', what: `Rollout ${ns}/${name}`, detail: `${step}, ${r.status.phase ?? 'unknown phase'}${r.status.message ? `: ${r.status.message}` : ''}`, ...(req.service ? { service: req.service } : {}) }];
}
