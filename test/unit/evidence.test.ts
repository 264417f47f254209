// The evidence pack's pure parts: `when:` conditions (parsed by the playbook schema, evaluated by
// the decision core), the core waiting for the opening pack only when a step branches on it,
// hostile alert data rendered per context into the evidence request, what-changed ordering and
// the likely cause, and the size cap.
import { describe, expect, it } from 'vitest';
import { capPack, packBytes } from '../../src/evidence/cap.js';
import { whatChanged } from '../../src/evidence/changes.js';
import { evidenceRequest } from '../../src/evidence/request.js';
import { factsOf, type EvidencePack } from '../../src/evidence/schema.js';
import { evaluateWhen } from '../../src/evidence/when.js';
import type { IncidentCommand } from '../../src/incident/types.js';
import { PlaybookSchema, type PlaybookInput } from '../../src/playbooks/schema.js';
import { streamSelector, selectorProblem } from '../../activities/evidence/logs.js';
import { ALLOW, coreDriver, T0 } from '../support/incident-core.js';
import { simulate } from '../../src/simulate/engine.js';
import type { EvidenceRequest } from '../../src/evidence/request.js';
import { testPlaybook } from '../support/fixtures.js';

const URL = 'http://127.0.0.1:9';
const MIN = 60_000;
const pb = (over: Partial<PlaybookInput> = {}) =>
  testPlaybook({
    name: 'evidence-core',
    match: { alertname: 'DemoServiceDown' },
    target: '{{labels.service}}',
    holdAfterEscalation: '1m',
    steps: [
      { name: 'raise memory', action: 'http', params: { url: `${URL}/memory` }, when: 'evidence.oomKilled' },
      { name: 'roll back', action: 'http', params: { url: `${URL}/rollback` }, when: 'changed.image within 30m' },
      { name: 'restart', action: 'http', params: { url: `${URL}/restart` } },
    ],
    ...over,
  });
const pack = (over: Partial<EvidencePack> = {}): EvidencePack => ({ moment: 'open', collectedAt: T0, missing: [], ...over });
const oomPod = { name: 'web-1', phase: 'Running', restarts: 4, containers: [{ name: 'app', ready: false, restarts: 4, state: 'waiting', reason: 'CrashLoopBackOff', lastState: { reason: 'OOMKilled', exitCode: 137 } }] };
const k8s = { target: { kind: 'Deployment', namespace: 'shop', name: 'web' }, owners: [], pods: [oomPod], events: [], nodes: [] };
const of = <K extends IncidentCommand['kind']>(cs: IncidentCommand[], kind: K) => cs.filter((c): c is Extract<IncidentCommand, { kind: K }> => c.kind === kind);

describe('when: conditions', () => {
  const facts = factsOf(pack({ kubernetes: k8s, changes: { windowMs: 30 * MIN, items: [{ at: T0 - 10 * MIN, kind: 'image', what: 'Deployment shop/web revision 3', detail: 'image app: web:1 → web:2' }] } }));
  it.each([
    ['evidence.oomKilled', true],
    ['evidence.crashLoop and evidence.restarts >= 4', true],
    ['evidence.restarts > 4', false],
    ['changed.image within 30m', true],
    ['changed.image within 5m', false],
    ['not changed.flag', true],
    ['changed.any within 15m and not evidence.oomKilled', false],
  ])('%s → %s', (when, holds) => expect(evaluateWhen(when, facts, T0).holds).toBe(holds));

  it('the playbook schema refuses a condition it cannot read, naming the field and the rule', () => {
    const r = PlaybookSchema.safeParse({ name: 'x', match: { alertname: 'A' }, steps: [{ name: 's', action: 'http', params: { url: URL }, when: 'changed.imag within 30m' }] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ path: ['steps', 0, 'when'], message: expect.stringContaining('unknown change kind imag') });
    const bad = PlaybookSchema.safeParse({ name: 'x', match: { alertname: 'A' }, steps: [{ name: 's', action: 'http', params: { url: URL }, when: 'evidence.oomKilled or true' }] });
    expect(bad.error!.issues[0]!.message).toMatch(/is not a condition/);
  });
});

describe('decision core: evidence', () => {
  it('collects at open, waits for it only because step 1 branches on it, skips the steps whose condition does not hold', () => {
    const d = coreDriver(pb());
    const start = d.send({ kind: 'start', carried: false });
    expect(d.kinds(start)).toEqual(['collectEvidence', 'publish']); // no governor call yet: step 1's `when` waits
    expect(of(start, 'collectEvidence')[0]).toMatchObject({ moment: 'open', at: T0 });
    const arrived = d.send({ kind: 'evidence', pack: pack({ kubernetes: { ...k8s, pods: [] } }) }, 2_000);
    expect(d.kinds(arrived)).toEqual(['askGovernor', 'publish']);
    expect(of(arrived, 'askGovernor')[0]!.admit.step).toMatchObject({ index: 2 });
    expect(d.notes().slice(1)).toEqual([
      'evidence at open: 0 pod(s), 0 restart(s)',
      'step 1/3 (raise memory) skipped: when `evidence.oomKilled` does not hold (oomKilled=false)',
      'step 2/3 (roll back) skipped: when `changed.image within 30m` does not hold (no image change seen)',
    ]);
    d.send({ kind: 'admitted', result: ALLOW });
    const acted = d.send({ kind: 'actionResult', outcome: { ok: true, summary: 'ok', durationMs: 1, data: {} } });
    expect(of(acted, 'collectEvidence')[0]).toMatchObject({ moment: 'after-step', step: 2 });
  });

  it('runs the OOM step when the pack says OOMKilled; evidence at escalation never holds the escalation up', () => {
    const d = coreDriver(pb({ steps: [{ name: 'raise memory', action: 'http', params: { url: `${URL}/memory` }, when: 'evidence.oomKilled' }] }));
    d.send({ kind: 'start', carried: false });
    const arrived = d.send({ kind: 'evidence', pack: pack({ kubernetes: k8s }) });
    expect(of(arrived, 'askGovernor')[0]!.admit.step).toMatchObject({ index: 0 });
    // The pack's signature is what similar past incidents match on: they are asked again with it.
    expect(d.state.signature).toBe('OOMKilled deployment/shop/web');
    expect(of(arrived, 'findSimilar')[0]!.query).toMatchObject({ signature: 'OOMKilled deployment/shop/web' });
    d.send({ kind: 'admitted', result: ALLOW });
    const failed = d.send({ kind: 'actionResult', outcome: { ok: false, error: 'HTTP 500', refused: false } });
    // The after-step and the escalation snapshots are asked for; the ladder goes on without them.
    expect(of(failed, 'collectEvidence').map((c) => c.moment)).toEqual(['after-step', 'escalation']);
    expect(d.state.phase).toBe('escalate');
    expect(d.notes().at(-1)).toMatch(/escalat|hand/);
  });

  it('a playbook without evidence and without `when:` collects nothing (existing runs are unchanged)', () => {
    const d = coreDriver(pb({ steps: [{ name: 'restart', action: 'http', params: { url: `${URL}/restart` } }] }));
    expect(d.kinds(d.send({ kind: 'start', carried: false }))).toEqual(['askGovernor', 'publish']);
  });
});

describe('medic simulate: the same `when:` decisions, on evidence read read-only', () => {
  const playbook = pb({ name: 'evidence-sim', steps: [{ name: 'raise memory', action: 'http', params: { url: `${URL}/memory` }, when: 'evidence.oomKilled', dryRun: true }, { name: 'restart', action: 'http', params: { url: `${URL}/restart` }, dryRun: true }] });
  const alert = { status: 'firing' as const, alertname: 'DemoServiceDown', severity: 'critical', labels: { alertname: 'DemoServiceDown', service: 'web' }, annotations: {}, startsAt: new Date(T0).toISOString(), fingerprint: '', source: 'alertmanager' as const, receivedAt: T0 };
  const actuator = async () => ({ ok: true, summary: 'dry run: would POST' });
  it('runs the OOM step when the reader says OOMKilled, skips it without sources', async () => {
    const asked: EvidenceRequest[] = [];
    const withPack = await simulate([alert], { playbooks: [playbook], actuator, evidence: async (req) => (asked.push(req), pack({ moment: req.moment, kubernetes: k8s })) });
    expect(withPack.incidents[0]!.events.filter((e) => e.kind === 'action').map((e) => (e as { name: string }).name)).toEqual(['raise memory']);
    expect(asked[0]).toMatchObject({ moment: 'open', service: 'web', queries: [{ name: 'alert', query: 'ALERTS{alertname="DemoServiceDown", service="web"}' }] });
    const without = await simulate([alert], { playbooks: [playbook], actuator });
    expect(without.incidents[0]!.events.filter((e) => e.kind === 'action').map((e) => (e as { name: string }).name)).toEqual(['restart']);
  });
});

describe('evidence request: hostile alert data is rendered per context', () => {
  const hostile = {
    alertname: 'DemoServiceDown',
    service: 'web"} or vector(1) #',
    namespace: 'shop;rm',
    deployment: '../../etc',
  };
  const playbook = testPlaybook({
    name: 'evidence-hostile',
    match: { alertname: 'DemoServiceDown' },
    allow: { kubernetes: { namespaces: ['shop'], names: { Deployment: ['web-*'] } } },
    steps: [{ name: 's', action: 'http', params: { url: `${URL}/x` }, verification: { http: { url: `${URL}/health/{{labels.service}}` } } }],
    evidence: {
      kubernetes: { namespace: '{{labels.namespace}}', name: '{{labels.deployment}}' },
      logs: { selector: { app: '{{labels.service}}' } },
      queries: { errors: 'rate(http_errors_total{service="{{labels.service}}"}[5m])' },
    },
  });
  const ctx = { incident: { id: 'i', workflowId: 'w' }, labels: hostile, annotations: {}, target: 't' };
  const req = evidenceRequest(playbook, ctx, { incidentId: 'i', moment: 'open', at: T0 });

  it('a Kubernetes name outside the allow-lists is refused and not queried; PromQL values stay inside their strings; URL segments are encoded', () => {
    expect(req.kubernetes).toBeUndefined();
    expect(req.refused).toEqual([{ part: 'kubernetes', reason: expect.stringMatching(/^refused, not queried: evidence\.kubernetes\.namespace value "shop;rm"/) }]);
    expect(req.queries.map((q) => q.query)).toEqual([
      'ALERTS{alertname="DemoServiceDown", service="web\\"} or vector(1) #"}',
      'rate(http_errors_total{service="web\\"} or vector(1) #"}[5m])',
    ]);
    expect(req.http).toEqual([`${URL}/health/web%22%7D%20or%20vector(1)%20%23`]);
  });

  it('log selector values are quoted, and the built query is checked again: a value never adds a filter or a pipe', () => {
    const q = streamSelector(req.logs!.selector);
    expect(q).toBe('{app="web\\"} or vector(1) #"}');
    expect(selectorProblem(q, req.logs!.selector)).toBeUndefined();
    expect(selectorProblem('{app="web"} | delete _msg', { app: 'web' })).toMatch(/structure outside its strings/);
    expect(() => streamSelector({ 'app} | x': 'v' })).toThrow(/log selector field/);
  });
});

describe('what changed and the size cap', () => {
  it('keeps the window, newest first, and calls out the newest change of the alert’s service (never medic’s own action)', () => {
    const c = whatChanged(
      [
        { at: T0 - 40 * MIN, kind: 'image', what: 'Deployment shop/web revision 2', detail: 'old', service: 'web' },
        { at: T0 - 2 * MIN, kind: 'medic', what: 'medic incident x', detail: 'ran restart', service: 'web' },
        { at: T0 - 5 * MIN, kind: 'flag', what: 'flag checkout-v2 (production)', detail: 'feature-environment-enabled by ann' },
        { at: T0 - 12 * MIN, kind: 'image', what: 'Deployment shop/web revision 3', detail: 'image app: web:1 → web:2', service: 'web' },
      ],
      { at: T0, windowMs: 30 * MIN, service: 'web' },
    );
    expect(c.items.map((i) => i.kind)).toEqual(['medic', 'flag', 'image']);
    expect(c.likelyCause).toEqual({ index: 2, reason: 'image change on Deployment shop/web revision 3 12m before the alert matches service web' });
  });

  it('cuts the biggest pack to its budget, least useful first, naming every cut', () => {
    const big = pack({
      kubernetes: { ...k8s, pods: Array.from({ length: 10 }, () => oomPod), events: Array.from({ length: 20 }, (_, i) => ({ at: new Date(T0 - i).toISOString(), type: 'Warning', reason: 'BackOff', object: 'Pod/web-1', message: 'x'.repeat(1000), count: 1 })) },
      logs: { source: 'victorialogs', query: '{app="web"}', lines: Array.from({ length: 200 }, (_, i) => ({ line: `line ${i} ${'y'.repeat(900)}` })) },
    });
    expect(packBytes(big)).toBeGreaterThan(200_000);
    const capped = capPack(big, 32 * 1024);
    expect(packBytes(capped)).toBeLessThanOrEqual(32 * 1024);
    expect(capped.truncated).toContain('log lines (oldest)');
    expect(capped.logs!.lines.at(-1)!.line).toMatch(/^line 199 /); // the newest lines are kept
    expect(capped.kubernetes!.pods[0]!.containers[0]!.lastState?.reason).toBe('OOMKilled');
  });
});
