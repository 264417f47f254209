// `medic simulate`'s Kubernetes dry runs: the worker's own Kubernetes activities, called with
// dryRun: true, so the API server answers dryRun=All with the object as it would be and the
// result carries the diff (e.g. spec.replicas 2 → 3). Nothing is written to the cluster.
// The cluster is the one the config's `kubernetes` section names (--config file, overlaid by
// MEDIC_KUBECONFIG / MEDIC_KUBERNETES_IN_CLUSTER / MEDIC_KUBERNETES_NAMESPACE, as for the worker).
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { createKubernetesActivities, kubernetesDeps, loadKubeConfig, type K8sActionResult, type KubernetesDeps } from '../../activities/kubernetes.js';
import { ConfigSchema } from '../config.js';
import type { KubernetesAllow } from '../playbooks/allow-kubernetes.js';
import type { Step } from '../playbooks/schema.js';
import type { TemplateContext } from '../playbooks/template.js';
import { callKubernetes } from '../../workflows/kubernetes.js';

export class KubernetesConfigError extends Error {}

type Env = Record<string, string | undefined>;

/** The `kubernetes` section for simulate, or undefined when neither the file nor env has one. */
export async function simulateKubernetesSection(configPath: string | undefined, env: Env = process.env) {
  let section: Record<string, unknown> | undefined;
  if (configPath) {
    const doc = parseYaml(await readFile(configPath, 'utf8')) as { kubernetes?: Record<string, unknown> } | null;
    if (doc?.kubernetes) section = { ...doc.kubernetes };
  }
  const fromEnv: Record<string, string> = {};
  if (env.MEDIC_KUBECONFIG) fromEnv.kubeconfig = env.MEDIC_KUBECONFIG;
  if (env.MEDIC_KUBERNETES_IN_CLUSTER) fromEnv.inCluster = env.MEDIC_KUBERNETES_IN_CLUSTER;
  if (env.MEDIC_KUBERNETES_NAMESPACE) fromEnv.namespace = env.MEDIC_KUBERNETES_NAMESPACE;
  if (env.MEDIC_ARGOCD_NAMESPACE) fromEnv.argocdNamespace = env.MEDIC_ARGOCD_NAMESPACE;
  if (!section && Object.keys(fromEnv).length === 0) return undefined;
  const parsed = ConfigSchema.shape.kubernetes.safeParse({ ...section, ...fromEnv });
  if (!parsed.success) {
    throw new KubernetesConfigError(`${configPath ?? 'environment'}: kubernetes: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** The worker's clients for that section (same kubeconfig / in-cluster loading). */
export async function simulateKubernetesDeps(configPath: string | undefined, env: Env = process.env): Promise<KubernetesDeps | undefined> {
  const section = await simulateKubernetesSection(configPath, env);
  if (!section) return undefined;
  try {
    return { ...kubernetesDeps(loadKubeConfig(section), section.namespace), argocdNamespace: section.argocdNamespace };
  } catch (err) {
    throw new KubernetesConfigError(`kubernetes: cannot load the kubeconfig: ${(err as Error).message}`);
  }
}

type KubernetesStep = Extract<Step, { action: 'kubernetes' }>;
export type KubernetesDryRun = (step: KubernetesStep, ctx: TemplateContext, idempotencyKey: string, allow?: KubernetesAllow) => Promise<K8sActionResult>;

/** Runs a kubernetes step's activity in dry run, with the input the workflow would give it: the
 * same target checks first (a refused target is never asked about), the node selector checked by
 * the activity against the live Node. */
export function kubernetesDryRun(deps: KubernetesDeps): KubernetesDryRun {
  const acts = createKubernetesActivities(deps);
  return (step, ctx, idempotencyKey, allow) => callKubernetes(acts, step, ctx, { idempotencyKey, dryRun: true }, { allow });
}
