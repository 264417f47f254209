// Which Kubernetes objects a step may touch. Alert data is hostile (docs/architecture.md): a
// name, namespace or node rendered from it must be a valid Kubernetes name for its field and must
// fall inside the playbook's allow.kubernetes lists; system namespaces (kube-*, and any the
// playbook names) need an explicit opt-in even when a literal names them. Pure: the workflow runs
// it before acting, `medic simulate` before its dry run, `medic validate` / playbook load on the
// raw templates.
import type { KubernetesAllow, NameKind, NodeSelector } from '../playbooks/allow-kubernetes.js';
import type { KubernetesParams, KubernetesProbe } from '../playbooks/kubernetes.js';

/** RFC 1123 label: namespaces (and every segment of a subdomain). */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: names of Deployments, Pods, Nodes, … */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const isDns1123Label = (v: string): boolean => v.length <= 63 && DNS1123_LABEL.test(v);
export const isDns1123Subdomain = (v: string): boolean => v.length <= 253 && DNS1123_SUBDOMAIN.test(v);

const LABEL_RULE = "is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)";
const SUBDOMAIN_RULE = "is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit, at most 253 characters)";

/** Always system namespaces, whatever the playbook says. */
export const SYSTEM_NAMESPACES = ['kube-*'] as const;

export const isTemplate = (v: string): boolean => v.includes('{{');

/** A glob (`*`, `?`) or `~regex`, matched against the whole value. */
export function matchesPattern(pattern: string, value: string): boolean {
  if (pattern.startsWith('~')) {
    try {
      return new RegExp(`^(?:${pattern.slice(1)})$`).test(value);
    } catch {
      return false;
    }
  }
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

const anyMatch = (patterns: readonly string[] | undefined, v: string): string | undefined => patterns?.find((p) => matchesPattern(p, v));

/** The system-namespace pattern `ns` falls under, if any. */
export function systemNamespaceOf(ns: string, allow: KubernetesAllow | undefined): string | undefined {
  return anyMatch([...SYSTEM_NAMESPACES, ...(allow?.systemNamespaces ?? [])], ns);
}

/** A value as shown in a refusal: quoted, control characters escaped, long values cut. */
export function show(v: string, max = 64): string {
  return JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
}
const list = (ps: readonly string[]): string => `[${ps.join(', ')}]`;

/** One name-like field of a step, as written in the playbook and as rendered. */
export interface TargetRef {
  /** Where it is in the step, e.g. params.namespace or verification.kubernetes.node. */
  path: string;
  field: 'namespace' | 'name' | 'node';
  /** The kind a `name` or `node` names. */
  kind?: NameKind;
  raw: string;
  value: string;
}

export interface TargetRefusal {
  path: string;
  value: string;
  rule: string;
  /** "params.namespace value "kube-system" is a system namespace …" */
  message: string;
}

const refusal = (ref: TargetRef, rule: string): TargetRefusal => ({
  path: ref.path,
  value: ref.value.length > 64 ? `${ref.value.slice(0, 64)}…` : ref.value,
  rule,
  message: `${ref.path} value ${show(ref.value)} ${rule}`,
});

/** Why the rendered `ref` may not be acted on, or undefined when it may. */
export function checkTarget(ref: TargetRef, allow: KubernetesAllow | undefined): TargetRefusal | undefined {
  const v = ref.value;
  if (ref.field === 'namespace') {
    if (!isDns1123Label(v)) return refusal(ref, LABEL_RULE);
    const system = systemNamespaceOf(v, allow);
    if (system && !anyMatch(allow?.allowSystemNamespaces, v)) {
      return refusal(ref, `is a system namespace (matches ${system}): refused unless allow.kubernetes.allowSystemNamespaces opts in`);
    }
    if (!isTemplate(ref.raw)) return undefined; // the playbook's author wrote it
    const ns = allow?.namespaces ?? [];
    if (ns.length === 0) return refusal(ref, `comes from a template (${ref.raw}) and the playbook lists no allow.kubernetes.namespaces`);
    if (!anyMatch(ns, v)) return refusal(ref, `does not match allow.kubernetes.namespaces ${list(ns)}`);
    return undefined;
  }
  if (!isDns1123Subdomain(v)) return refusal(ref, SUBDOMAIN_RULE);
  if (!isTemplate(ref.raw) || !ref.kind) return undefined;
  const names = allow?.names?.[ref.kind];
  if (names) return anyMatch(names, v) ? undefined : refusal(ref, `does not match allow.kubernetes.names.${ref.kind} ${list(names)}`);
  // A templated node may instead be admitted by the node selector, which the activity checks
  // against the live Node before acting.
  if (ref.kind === 'Node' && allow?.nodeSelector) return undefined;
  const alt = ref.kind === 'Node' ? ' or allow.kubernetes.nodeSelector' : '';
  return refusal(ref, `comes from a template (${ref.raw}) and the playbook lists no allow.kubernetes.names.${ref.kind}${alt}`);
}

type Fields = { namespace?: string | undefined; name?: string | undefined; node?: string | undefined };

/** The kind the `name` of a step's params names. */
export function paramsKind(p: KubernetesParams): NameKind {
  switch (p.operation) {
    case 'restart':
    case 'scale':
      return p.kind;
    case 'delete-pod':
      return 'Pod';
    case 'rollback':
      return 'Deployment';
    case 'rollout-pause':
    case 'rollout-abort':
      return 'Rollout';
    case 'cordon':
    case 'drain':
    case 'uncordon':
      return 'Node';
    case 'shift-traffic':
      return 'VirtualService';
    case 'circuit-break':
      return 'DestinationRule';
  }
}

export const probeKind = (p: KubernetesProbe): NameKind | undefined => (p.check === 'rollout-finished' ? p.kind : p.check === 'node-drained' ? 'Node' : undefined);

/** The name-like fields of raw vs rendered params or probe (rendered defaults to raw: load time). */
export function targetRefs(at: string, kind: NameKind | undefined, raw: Fields, rendered: Fields = raw): TargetRef[] {
  const out: TargetRef[] = [];
  for (const field of ['namespace', 'name', 'node'] as const) {
    const r = raw[field];
    if (r === undefined) continue;
    const k: NameKind | undefined = field === 'node' ? 'Node' : field === 'name' ? kind : undefined;
    out.push({ path: `${at}.${field}`, field, raw: r, value: rendered[field] ?? '', ...(k ? { kind: k } : {}) });
  }
  return out;
}

/** The first refusal among `refs`. */
export function firstRefusal(refs: TargetRef[], allow: KubernetesAllow | undefined): TargetRefusal | undefined {
  for (const ref of refs) {
    const r = checkTarget(ref, allow);
    if (r) return r;
  }
  return undefined;
}

// A label selector as `kubectl -l` takes it: key[=|==|!=]value, key, !key, key in (a,b), key notin (a,b).
const KEY = String.raw`(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?`;
const VAL = String.raw`(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?`;
const REQUIREMENT = new RegExp(`^\\s*(?:!?${KEY}|${KEY}\\s*(?:=|==|!=)\\s*${VAL}|${KEY}\\s+(?:in|notin)\\s+\\(\\s*${VAL}(?:\\s*,\\s*${VAL})*\\s*\\))\\s*$`);

/** A rendered label selector (pods-ready probe) must be a valid selector, nothing more. */
export function selectorProblem(path: string, selector: string): TargetRefusal | undefined {
  const parts = selector.split(/,(?![^(]*\))/);
  if (selector.length <= 1024 && parts.every((p) => REQUIREMENT.test(p))) return undefined;
  const rule = 'is not a Kubernetes label selector (key=value, key!=value, key, !key, key in (a,b), key notin (a,b))';
  return { path, value: selector.slice(0, 64), rule, message: `${path} value ${show(selector)} ${rule}` };
}

/** Does a Node with these labels match the selector (as the API server's LabelSelector would)? */
export function selectorMatches(s: NodeSelector, labels: Record<string, string>): boolean {
  if (!Object.entries(s.matchLabels).every(([k, v]) => labels[k] === v)) return false;
  return s.matchExpressions.every((e) => {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In':
        return has && e.values.includes(labels[e.key]!);
      case 'NotIn':
        return !has || !e.values.includes(labels[e.key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}

/** kubectl's spelling of a selector, for messages: "pool=general,node-role.kubernetes.io/control-plane notin ()". */
export function describeSelector(s: NodeSelector): string {
  const parts = Object.entries(s.matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${e.values.join(',')})`);
  }
  return parts.join(',');
}

// ---------------------------------------------------------------- load time

interface StepLike {
  action: string;
  params: unknown;
  verification?: { kubernetes?: KubernetesProbe | undefined } | undefined;
}
export interface AllowProblem {
  path: (string | number)[];
  message: string;
}

/** The name-like fields of one step (its kubernetes params and its kubernetes probe). */
export function stepRefs(step: StepLike): { at: string; kind: NameKind | undefined; fields: Fields }[] {
  const out: { at: string; kind: NameKind | undefined; fields: Fields }[] = [];
  if (step.action === 'kubernetes') out.push({ at: 'params', kind: paramsKind(step.params as KubernetesParams), fields: step.params as Fields });
  const probe = step.verification?.kubernetes;
  if (probe) out.push({ at: 'verification.kubernetes', kind: probeKind(probe), fields: probe as Fields });
  return out;
}

/** `medic validate`: a templated Kubernetes target needs an allow-list that can admit it, and a
 * system namespace needs the opt-in even when written literally. */
export function kubernetesAllowProblems(pb: { steps: StepLike[]; allow?: { kubernetes?: KubernetesAllow | undefined } | undefined }): AllowProblem[] {
  const allow = pb.allow?.kubernetes;
  const problems: AllowProblem[] = [];
  pb.steps.forEach((step, i) => {
    for (const { at, kind, fields } of stepRefs(step)) {
      for (const ref of targetRefs(at, kind, fields)) {
        const path = ['steps', i, ...ref.path.split('.')];
        if (!isTemplate(ref.raw)) {
          const system = ref.field === 'namespace' ? systemNamespaceOf(ref.raw, allow) : undefined;
          if (system && !anyMatch(allow?.allowSystemNamespaces, ref.raw)) {
            problems.push({ path, message: `${ref.raw} is a system namespace (matches ${system}): list it in allow.kubernetes.allowSystemNamespaces to act there` });
          }
          continue;
        }
        const why = `${ref.field} is a template (${ref.raw}): a value from alert data may only pick an allow-listed target;`;
        if (ref.field === 'namespace' && (allow?.namespaces ?? []).length === 0) problems.push({ path, message: `${why} list the namespaces it may name in allow.kubernetes.namespaces` });
        if (ref.field !== 'namespace' && ref.kind && !allow?.names?.[ref.kind] && !(ref.kind === 'Node' && allow?.nodeSelector)) {
          const alt = ref.kind === 'Node' ? ' (or a nodeSelector)' : '';
          problems.push({ path, message: `${why} list the ${ref.kind} names it may pick in allow.kubernetes.names.${ref.kind}${alt}` });
        }
      }
    }
  });
  return problems;
}
