// The pure target checks (src/policy/targets.ts): DNS-1123 by field, allow-list patterns, the
// system-namespace opt-in, node selectors, the load-time rule, the workflow's refusal of a step
// and the governor's window budget. Plus a property: whatever the alert carries, a value the
// check accepts is a valid Kubernetes name inside the allow-list.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KubernetesAllowSchema, type KubernetesAllow } from '../../src/playbooks/allow-kubernetes.js';
import { parsePlaybook } from '../../src/playbooks/load.js';
import type { Alert } from '../../src/intake/schemas.js';
import { LimitsSchema, PlaybookSchema, type Playbook, type Step } from '../../src/playbooks/schema.js';
import { dryRunActuator } from '../../src/simulate/actuator.js';
import { simulate } from '../../src/simulate/engine.js';
import { ROOT } from '../support/paths.js';
import type { TemplateContext } from '../../src/playbooks/template.js';
import { admissionGates, recordTouch, pruneTouched, type AdmissionLedger } from '../../src/policy/admission.js';
import {
  checkTarget,
  isDns1123Label,
  isDns1123Subdomain,
  matchesPattern,
  selectorMatches,
  selectorProblem,
  show,
  type TargetRef,
} from '../../src/policy/targets.js';
import { kubernetesRefusal, probeNameProblem } from '../../workflows/kubernetes.js';

const allow = (a: unknown): KubernetesAllow => KubernetesAllowSchema.parse(a);
const shop = allow({ namespaces: ['shop', 'team-*', '~pay(ments)?'], names: { Deployment: ['web', 'api-*'], Node: ['worker-?'] } });
const ref = (field: TargetRef['field'], value: string, raw = `{{labels.${field}}}`, kind?: TargetRef['kind']): TargetRef => ({
  path: `params.${field}`,
  field,
  raw,
  value,
  ...(field === 'namespace' ? {} : { kind: kind ?? (field === 'node' ? 'Node' : 'Deployment') }),
});

describe('DNS-1123 by field', () => {
  it.each([
    ['web', true, true],
    ['web-1.shop', false, true],
    ['WEB', false, false],
    ['web/../x', false, false],
    ['-web', false, false],
    ['web-', false, false],
    ['web..x', false, false],
    ['a'.repeat(63), true, true],
    ['a'.repeat(64), false, true],
    ['a'.repeat(253), false, true], // as Kubernetes checks a subdomain: total length, not per part
    ['a'.repeat(254), false, false],
    ['a'.repeat(300), false, false],
    ['', false, false],
    ['web\n', false, false],
  ])('%j: label %s, subdomain %s', (v, label, subdomain) => {
    expect(isDns1123Label(v)).toBe(label);
    expect(isDns1123Subdomain(v)).toBe(subdomain);
  });
});

describe('patterns', () => {
  it.each([
    ['web', 'web', true],
    ['web', 'web2', false],
    ['api-*', 'api-eu', true],
    ['api-*', 'xapi-eu', false],
    ['worker-?', 'worker-7', true],
    ['worker-?', 'worker-17', false],
    ['team-*', 'team-a.b', true],
    ['~pay(ments)?', 'payments', true],
    ['~pay(ments)?', 'payments-x', false],
    ['a.b', 'aXb', false],
  ])('%s vs %s → %s', (p, v, ok) => expect(matchesPattern(p, v)).toBe(ok));

  it('schema refuses patterns that are neither names, globs nor compiling regexes', () => {
    expect(KubernetesAllowSchema.safeParse({ namespaces: ['Shop'] }).success).toBe(false);
    expect(KubernetesAllowSchema.safeParse({ namespaces: ['~(('] }).success).toBe(false);
    expect(KubernetesAllowSchema.safeParse({ names: { Secret: ['*'] } }).success).toBe(false);
    expect(KubernetesAllowSchema.safeParse({ nodeSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }).success).toBe(false);
  });
});

describe('checkTarget', () => {
  it.each<[string, TargetRef, KubernetesAllow | undefined, string | undefined]>([
    ['templated namespace in the list', ref('namespace', 'shop'), shop, undefined],
    ['templated namespace by glob', ref('namespace', 'team-a'), shop, undefined],
    ['templated namespace by regex', ref('namespace', 'pay'), shop, undefined],
    ['templated namespace outside', ref('namespace', 'billing'), shop, 'params.namespace value "billing" does not match allow.kubernetes.namespaces [shop, team-*, ~pay(ments)?]'],
    ['templated namespace without any list', ref('namespace', 'shop'), undefined, 'params.namespace value "shop" comes from a template ({{labels.namespace}}) and the playbook lists no allow.kubernetes.namespaces'],
    ['kube-system even when a pattern admits it', ref('namespace', 'kube-system'), allow({ namespaces: ['*'] }), 'params.namespace value "kube-system" is a system namespace (matches kube-*): refused unless allow.kubernetes.allowSystemNamespaces opts in'],
    ['kube-system written literally', ref('namespace', 'kube-system', 'kube-system'), undefined, 'params.namespace value "kube-system" is a system namespace (matches kube-*): refused unless allow.kubernetes.allowSystemNamespaces opts in'],
    ['kube-node-lease', ref('namespace', 'kube-node-lease'), allow({ namespaces: ['kube-*'] }), 'params.namespace value "kube-node-lease" is a system namespace (matches kube-*): refused unless allow.kubernetes.allowSystemNamespaces opts in'],
    ['a configured system namespace', ref('namespace', 'istio-system'), allow({ namespaces: ['*'], systemNamespaces: ['*-system'] }), 'params.namespace value "istio-system" is a system namespace (matches *-system): refused unless allow.kubernetes.allowSystemNamespaces opts in'],
    ['kube-system with the opt-in', ref('namespace', 'kube-system'), allow({ namespaces: ['kube-system'], allowSystemNamespaces: ['kube-system'] }), undefined],
    ['opt-in alone does not list it for templates', ref('namespace', 'kube-public'), allow({ namespaces: ['shop'], allowSystemNamespaces: ['kube-*'] }), 'params.namespace value "kube-public" does not match allow.kubernetes.namespaces [shop]'],
    ['a literal namespace needs no list', ref('namespace', 'billing', 'billing'), undefined, undefined],
    ['namespace not a label', ref('namespace', 'Shop'), shop, `params.namespace value "Shop" is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)`],
    ['name in the list', ref('name', 'api-eu'), shop, undefined],
    ['name outside', ref('name', 'payments-db'), shop, 'params.name value "payments-db" does not match allow.kubernetes.names.Deployment [web, api-*]'],
    ['name of a kind with no list', ref('name', 'web', '{{labels.pod}}', 'Pod'), shop, 'params.name value "web" comes from a template ({{labels.pod}}) and the playbook lists no allow.kubernetes.names.Pod'],
    ['path traversal', ref('name', 'web/../x'), shop, `params.name value "web/../x" is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit, at most 253 characters)`],
    ['upper case', ref('name', 'WEB'), shop, `params.name value "WEB" is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit, at most 253 characters)`],
    ['a literal name is implicitly allowed', ref('name', 'payments-db', 'payments-db'), undefined, undefined],
    ['node by name', ref('node', 'worker-3'), shop, undefined],
    ['node outside the names', ref('node', 'master-1'), shop, 'params.node value "master-1" does not match allow.kubernetes.names.Node [worker-?]'],
    ['node admitted by a selector (checked live)', ref('node', 'any-node'), allow({ nodeSelector: { matchLabels: { pool: 'general' } } }), undefined],
    ['node with nothing', ref('node', 'n1'), allow({}), 'params.node value "n1" comes from a template ({{labels.node}}) and the playbook lists no allow.kubernetes.names.Node or allow.kubernetes.nodeSelector'],
  ])('%s', (_what, r, a, message) => {
    expect(checkTarget(r, a)?.message).toBe(message);
  });

  it('a long value is cut in the message; control characters are escaped', () => {
    const long = `web${'x'.repeat(200)}`;
    const r = checkTarget(ref('name', long), shop)!;
    expect(r.message).toBe(`params.name value "web${'x'.repeat(61)}…" does not match allow.kubernetes.names.Deployment [web, api-*]`);
    expect(r.value).toHaveLength(65);
    expect(show('a\nb`c')).toBe('"a\\nb`c"');
  });
});

describe('selectors', () => {
  const s = allow({ nodeSelector: { matchLabels: { pool: 'general' }, matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' }, { key: 'zone', operator: 'In', values: ['a', 'b'] }] } }).nodeSelector!;
  it.each([
    [{ pool: 'general', zone: 'a' }, true],
    [{ pool: 'general', zone: 'c' }, false],
    [{ pool: 'general' }, false],
    [{ pool: 'batch', zone: 'a' }, false],
    [{ pool: 'general', zone: 'b', 'node-role.kubernetes.io/control-plane': '' }, false],
  ])('%j → %s', (labels, ok) => expect(selectorMatches(s, labels)).toBe(ok));

  it('a rendered pods-ready selector must be a label selector', () => {
    expect(selectorProblem('s', 'app=web,tier in (a, b),!canary')).toBeUndefined();
    expect(selectorProblem('s', 'app=web) or (x')?.message).toMatch(/^s value "app=web\) or \(x" is not a Kubernetes label selector/);
    expect(selectorProblem('s', 'app=web\nx=y')).toBeDefined();
  });
});

const ctx = (labels: Record<string, string>): TemplateContext => ({ incident: { id: 'i:1', workflowId: 'i' }, labels, annotations: {}, target: 't' });
const restart: Step = PlaybookSchema.parse({
  name: 'r',
  match: { alertname: 'X' },
  allow: { kubernetes: { namespaces: ['shop'], names: { Deployment: ['*'] } } },
  steps: [
    {
      name: 'restart',
      action: 'kubernetes',
      params: { operation: 'restart', namespace: '{{labels.namespace}}', name: '{{labels.deployment}}' },
      verification: { kubernetes: { check: 'rollout-finished', namespace: '{{labels.namespace}}', name: '{{labels.deployment}}' } },
    },
  ],
}).steps[0]!;
const restartAllow = allow({ namespaces: ['shop'], names: { Deployment: ['*'] } });

describe('a step refused before it acts (workflow and simulate)', () => {
  it('names the field, the value and the rule; an allowed target passes', () => {
    expect(kubernetesRefusal(restart, ctx({ namespace: 'shop', deployment: 'web' }), restartAllow)).toBeUndefined();
    expect(kubernetesRefusal(restart, ctx({ namespace: 'kube-system', deployment: 'coredns' }), restartAllow)?.message).toBe(
      'params.namespace value "kube-system" is a system namespace (matches kube-*): refused unless allow.kubernetes.allowSystemNamespaces opts in',
    );
    // a missing label renders empty: refused, not "the default namespace"
    expect(kubernetesRefusal(restart, ctx({ deployment: 'web' }), restartAllow)?.path).toBe('params.namespace');
    // a template left in place ({{secret.X}}) is not a name
    expect(kubernetesRefusal(restart, ctx({ namespace: 'shop', deployment: '{{secret.TOKEN}}' }), restartAllow)?.path).toBe('params.name');
  });

  it('the probe is checked too, and a rendered probe with bad names is not run', () => {
    const probeOnly: Step = { ...restart, params: { operation: 'restart', kind: 'Deployment', namespace: 'shop', name: 'web' } } as Step;
    expect(kubernetesRefusal(probeOnly, ctx({ namespace: 'billing', deployment: 'web' }), restartAllow)?.path).toBe('verification.kubernetes.namespace');
    expect(probeNameProblem({ check: 'node-drained', node: 'a/b' })).toMatch(/^verification\.kubernetes\.node value "a\/b" is not a DNS-1123 subdomain/);
    expect(probeNameProblem({ check: 'rollout-finished', kind: 'Deployment', namespace: 'shop', name: 'web' })).toBeUndefined();
  });

  it('property: whatever a label carries, an accepted target is a Kubernetes name inside the allow-list', () => {
    const printable = fc.string({ unit: fc.constantFrom(...'abcz09-._/ABZ\n{}$*?'.split('')), maxLength: 80 });
    const value = fc.oneof(printable, fc.string({ maxLength: 300 }), fc.constantFrom('shop', 'kube-system', 'web', 'api-1', 'team-x', 'payments'));
    fc.assert(
      fc.property(value, value, (ns, name) => {
        const refused = kubernetesRefusal(restart, ctx({ namespace: ns, deployment: name }), shop);
        if (refused) return;
        expect(isDns1123Label(ns)).toBe(true);
        expect(['shop', 'team-*', '~pay(ments)?'].some((p) => matchesPattern(p, ns))).toBe(true);
        expect(ns.startsWith('kube-')).toBe(false);
        expect(isDns1123Subdomain(name)).toBe(true);
        expect(['web', 'api-*'].some((p) => matchesPattern(p, name))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('medic validate: templated targets need an allow-list', () => {
  const pb = (allowYaml: string, params: string) => `name: k
match: { alertname: X }
${allowYaml}steps:
  - name: s
    action: kubernetes
    params:
${params}`;
  const problems = (text: string) => parsePlaybook(text, 'pb.yaml', {}).problems.map((p) => `${p.line}:${p.column}: ${p.message}`);

  it('a templated namespace, name or node without a list is refused at the field', () => {
    expect(problems(pb('', "      operation: restart\n      namespace: '{{labels.namespace}}'\n      name: '{{labels.deployment}}'\n"))).toEqual([
      '8:7: steps.0.params.namespace: namespace is a template ({{labels.namespace}}): a value from alert data may only pick an allow-listed target; list the namespaces it may name in allow.kubernetes.namespaces',
      '9:7: steps.0.params.name: name is a template ({{labels.deployment}}): a value from alert data may only pick an allow-listed target; list the Deployment names it may pick in allow.kubernetes.names.Deployment',
    ]);
    expect(problems(pb('', "      operation: cordon\n      node: '{{labels.node}}'\n"))).toEqual([
      '8:7: steps.0.params.node: node is a template ({{labels.node}}): a value from alert data may only pick an allow-listed target; list the Node names it may pick in allow.kubernetes.names.Node (or a nodeSelector)',
    ]);
  });

  it('literal names load without a list, except a system namespace without the opt-in', () => {
    expect(problems(pb('', '      operation: restart\n      namespace: shop\n      name: web\n'))).toEqual([]);
    expect(problems(pb('', '      operation: restart\n      namespace: kube-system\n      name: coredns\n'))).toEqual([
      '8:7: steps.0.params.namespace: kube-system is a system namespace (matches kube-*): list it in allow.kubernetes.allowSystemNamespaces to act there',
    ]);
    expect(problems(pb('allow: { kubernetes: { allowSystemNamespaces: [kube-system] } }\n', '      operation: restart\n      namespace: kube-system\n      name: coredns\n'))).toEqual([]);
    expect(problems(pb('', '      operation: restart\n      namespace: Kube_System\n      name: web\n'))[0]).toContain('namespace must be a Kubernetes namespace name');
  });

  it('with lists that admit them, templated targets load', () => {
    const a = "allow:\n  kubernetes:\n    namespaces: [shop]\n    names: { Deployment: ['*'] }\n    nodeSelector: { matchLabels: { pool: general } }\n";
    expect(problems(pb(a, "      operation: restart\n      namespace: '{{labels.namespace}}'\n      name: '{{labels.deployment}}'\n"))).toEqual([]);
    expect(problems(pb(a, "      operation: drain\n      node: '{{labels.node}}'\n"))).toEqual([]);
  });
});

describe('blast radius across incidents (limits.maxTargetsPerWindow)', () => {
  const limits = LimitsSchema.parse({ maxTargetsPerWindow: { targets: 2, window: '1h' }, maxConcurrentGlobal: 100, maxActionsPerHourGlobal: 100 });
  const ledger = (): AdmissionLedger => ({ pause: { paused: false }, starts: [], inFlight: {}, cooldowns: {}, deployments: {} });
  const T0 = Date.parse('2026-01-01T00:00:00Z');

  it('admits N distinct targets per window, blocks the next with the reason, re-admits a touched one', () => {
    const s = ledger();
    for (const n of ['node-1', 'node-2']) {
      expect(admissionGates(s, n, limits, T0, 'node-pressure-drain').allowed).toBe(true);
      recordTouch(s, 'node-pressure-drain', n, limits, T0);
    }
    const third = admissionGates(s, 'node-3', limits, T0 + 60_000, 'node-pressure-drain');
    expect(third.allowed).toBe(false);
    expect(third.decisions.find((d) => d.outcome === 'block')).toEqual({
      gate: 'blast-radius',
      outcome: 'block',
      reason: 'blast radius: playbook node-pressure-drain already touched 2 targets in the last 1h (limit 2)',
    });
    expect(admissionGates(s, 'node-1', limits, T0 + 60_000, 'node-pressure-drain').allowed).toBe(true); // its second step
    expect(admissionGates(s, 'node-3', limits, T0 + 60_000, 'other-playbook').allowed).toBe(true); // per playbook
    expect(admissionGates(s, 'node-3', limits, T0 + 3_600_001, 'node-pressure-drain').allowed).toBe(true); // window slid
  });

  it('state stays bounded: entries leave with their window, and everything after a day', () => {
    const s = ledger();
    for (let i = 0; i < 50; i++) recordTouch(s, 'p', `t-${i}`, limits, T0 + i * 120_000);
    expect(s.touched!.p!.length).toBeLessThanOrEqual(31); // 1h / 2min
    pruneTouched(s, T0 + 50 * 120_000 + 86_400_000);
    expect(s.touched).toEqual({});
  });

  it('defaults to 50 targets an hour; a window above a day is refused', () => {
    expect(LimitsSchema.parse({}).maxTargetsPerWindow).toEqual({ targets: 50, window: '1h' });
    expect(LimitsSchema.safeParse({ maxTargetsPerWindow: { targets: 1, window: '2d' } }).error?.issues[0]?.message).toBe('window must be at most 1d');
  });
});

describe('medic simulate decides as the workflow does', () => {
  const T0 = Date.parse('2026-01-01T00:00:00Z');
  const k8sAlert = (alertname: string, labels: Record<string, string>, at: number): Alert => ({
    status: 'firing',
    alertname,
    severity: 'critical',
    labels: { alertname, ...labels },
    annotations: {},
    startsAt: new Date(at).toISOString(),
    fingerprint: `fp-${JSON.stringify(labels)}`,
    source: 'alertmanager',
    receivedAt: at,
  });
  const shipped = (name: string): Playbook => parsePlaybook(readFileSync(join(ROOT, 'playbooks', `${name}.yaml`), 'utf8'), name, {}).playbook!;

  it('the shipped crash-looping-pod refuses kube-system in simulate, naming the field and rule', async () => {
    const r = await simulate([k8sAlert('KubePodCrashLooping', { namespace: 'kube-system', deployment: 'coredns', pod: 'coredns-1' }, T0)], {
      playbooks: [shipped('crash-looping-pod')],
      actuator: dryRunActuator(),
    });
    const inc = r.incidents[0]!;
    expect(inc.sequence).toEqual([{ step: 0, result: 'blocked' }, { step: 1, result: 'blocked' }]);
    expect(inc.events.filter((e) => e.kind === 'action')).toEqual([]);
    expect(inc.reason).toContain('params.namespace value "kube-system" is a system namespace (matches kube-*)');
  });

  it('the shipped node-pressure-drain: a flood of 6 nodes cordons 2, the rest are blocked by the window budget', async () => {
    const alerts = Array.from({ length: 6 }, (_, i) => k8sAlert('KubeNodeMemoryPressure', { node: `node-${i}` }, T0 + i * 1_000));
    const r = await simulate(alerts, { playbooks: [shipped('node-pressure-drain')], actuator: dryRunActuator() });
    const cordoned = r.incidents.filter((i) => i.events.some((e) => e.kind === 'action'));
    expect(cordoned).toHaveLength(2);
    const blocked = r.incidents.filter((i) => i.reason.includes('blast radius: playbook node-pressure-drain already touched 2 targets in the last 1h (limit 2)'));
    expect(blocked).toHaveLength(4);
  });
});
