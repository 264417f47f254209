// The OPA gate's activity (activities/opa.ts) against the real parts: an OPA server (`opa run
// --server`, the pinned binary) over the REST Data API, and the same policies compiled with
// `opa build -t wasm` and evaluated in process. Both backends must give the same decisions; a
// broken policy, an answer of the wrong shape, an undefined rule, a server that is down or slow
// each come back as a clear reason naming the server/file and the field, never an exception.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpaActivities, opaServer, opaWasm } from '../../activities/opa.js';
import { PolicyGateSchema, type PolicyInput } from '../../src/policy/opa.js';
import { freePort } from '../../dev/ports.js';
import { simulateCommand } from '../../src/cli/simulate.js';
import { firingAlert } from '../support/fixtures.js';
import { buildWasmBundle, opa, startOpaBackends, type OpaBackends } from '../support/opa.js';
import { ROOT } from '../support/paths.js';

const DECISION = 'medic/remediation/decision';
const BROKEN = 'package medic.broken\n\ndecision := {"outcome": "maybe", "reasons": "none"}\n';
const input = (over: { severity?: string; namespace?: string; openIncidents?: number } = {}): PolicyInput => ({
  incident: { id: 'incident:canary:1', playbook: 'canary-slo-breach', startedAt: '2026-01-07T10:00:00.000Z' },
  alert: { alertname: 'CanarySLOBreach', severity: over.severity ?? 'warning', status: 'firing', source: 'alertmanager', labels: {}, annotations: {} },
  labels: { namespace: over.namespace ?? 'shop' },
  target: `k8s/${over.namespace ?? 'shop'}/rollout/web`,
  step: { index: 0, name: 'abort canary', action: 'kubernetes', operation: 'rollout-abort', namespace: over.namespace ?? 'shop', targets: [], risk: 'low' },
  risk: 'low',
  mode: 'auto',
  time: { now: '2026-01-07T10:30:00.000Z', unixMs: Date.parse('2026-01-07T10:30:00Z'), weekday: 'Wednesday', hourUtc: 10, minuteUtc: 30 },
  governor: { openIncidents: over.openIncidents ?? 0, recentActions: [], deployments: {} },
});
const gate = (decision = DECISION, timeout = '2s') => PolicyGateSchema.parse({ decision, timeout });

let backends: OpaBackends;
let brokenBundle: string;

beforeAll(async () => {
  backends = await startOpaBackends([DECISION]);
  await writeFile(join(backends.dir, 'broken.rego'), BROKEN);
  brokenBundle = await buildWasmBundle([join(backends.dir, 'broken.rego')], ['medic/broken/decision'], join(backends.dir, 'broken.tar.gz'));
  expect((await backends.server.putPolicy('broken.rego', BROKEN)).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await backends?.stop();
});

describe('OPA backends', () => {
  it('server and wasm give the same allow / require_approval / deny, with the policy content hash', async () => {
    const viaServer = createOpaActivities({ server: opaServer({ url: backends.server.url }) }).opaDecide;
    const viaWasm = createOpaActivities({ wasm: opaWasm({ bundle: backends.bundle }) }).opaDecide;
    const cases = [
      { input: input(), outcome: 'allow' },
      { input: input({ severity: 'critical' }), outcome: 'require_approval', approvers: ['@sre-leads'] },
      { input: input({ openIncidents: 3 }), outcome: 'require_approval', approvers: ['@sre-leads'] },
      { input: input({ namespace: 'kube-system' }), outcome: 'deny' },
    ];
    const bundleHash = createHash('sha256').update(await readFile(backends.bundle)).digest('hex');
    for (const c of cases) {
      const [s, w] = await Promise.all([viaServer({ gate: gate(), input: c.input, timeoutMs: 2_000 }), viaWasm({ gate: gate(), input: c.input, timeoutMs: 2_000 })]);
      if (!s.ok || !w.ok) throw new Error(`no answer: ${JSON.stringify({ s, w })}`);
      expect(s.answer).toEqual(w.answer);
      expect(s.answer.outcome).toBe(c.outcome);
      if (c.approvers) expect(s.answer).toMatchObject({ approvers: c.approvers });
      expect(s).toMatchObject({ backend: 'server', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(w).toMatchObject({ backend: 'wasm', hash: bundleHash });
    }
    const deny = await viaWasm({ gate: gate(), input: input({ namespace: 'kube-system' }), timeoutMs: 2_000 });
    expect(deny).toMatchObject({ ok: true, answer: { outcome: 'deny', reasons: ['medic never touches namespace kube-system', 'medic never touches namespace kube-system (target k8s/kube-system/rollout/web)'] } });
  });

  it('the server hash follows the policy content: a changed module changes it', async () => {
    const viaServer = createOpaActivities({ server: opaServer({ url: backends.server.url }) }).opaDecide;
    const before = await viaServer({ gate: gate(), input: input(), timeoutMs: 2_000 });
    expect((await backends.server.putPolicy('extra.rego', 'package medic.extra\n\nx := 1\n')).status).toBe(200);
    const after = await viaServer({ gate: gate(), input: input(), timeoutMs: 2_000 });
    expect(before.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(after.hash).not.toBe(before.hash);
  });

  it('an answer of the wrong shape is invalid, naming the rule and each field (server and wasm)', async () => {
    const s = await createOpaActivities({ server: opaServer({ url: backends.server.url }) }).opaDecide({ gate: gate('medic/broken/decision'), input: input(), timeoutMs: 2_000 });
    expect(s).toMatchObject({ ok: false, backend: 'server', error: { kind: 'invalid' } });
    expect(!s.ok && s.error.message).toBe(
      `OPA server ${backends.server.url}, rule data.medic.broken.decision answered in the wrong shape: result.outcome: Invalid discriminator value. Expected 'allow' | 'deny' | 'require_approval'`,
    );
    const w = await createOpaActivities({ wasm: opaWasm({ bundle: brokenBundle }) }).opaDecide({ gate: gate('medic/broken/decision'), input: input(), timeoutMs: 2_000 });
    expect(!w.ok && w.error).toEqual({ kind: 'invalid', message: `policy bundle ${brokenBundle}, entrypoint medic/broken/decision answered in the wrong shape: result.outcome: Invalid discriminator value. Expected 'allow' | 'deny' | 'require_approval'` });
  });

  it('an undefined rule and a missing entrypoint are invalid, naming the path', async () => {
    const s = await createOpaActivities({ server: opaServer({ url: backends.server.url }) }).opaDecide({ gate: gate('medic/nope/decision'), input: input(), timeoutMs: 2_000 });
    expect(!s.ok && s.error).toEqual({ kind: 'invalid', message: `OPA server ${backends.server.url}, rule data.medic.nope.decision is undefined: no loaded policy defines it (a typo in the path, or the policy is not loaded)` });
    const w = await createOpaActivities({ wasm: opaWasm({ bundle: backends.bundle }) }).opaDecide({ gate: gate('medic/nope/decision'), input: input(), timeoutMs: 2_000 });
    expect(!w.ok && w.error).toEqual({
      kind: 'invalid',
      message: `policy bundle ${backends.bundle}, entrypoint medic/nope/decision: the bundle has no such entrypoint (it has: ${DECISION}); build it with opa build -t wasm -e medic/nope/decision`,
    });
  });

  it('a policy that does not compile: opa rejects it naming file and line, the server keeps its policies; a bundle whose Wasm does not compile is invalid, naming the file', async () => {
    const bad = join(backends.dir, 'bad.rego');
    await writeFile(bad, 'package medic.bad\n\ndecision := {"outcome": "allow"\n');
    await expect(opa(['build', '-t', 'wasm', '-e', 'medic/bad/decision', '-o', join(backends.dir, 'bad.tar.gz'), bad])).rejects.toThrow(/bad\.rego:\d+: rego_parse_error/);
    const put = await backends.server.putPolicy('bad.rego', 'package medic.bad\n\ndecision := {"outcome": "allow"\n');
    expect(put.status).toBe(400);
    expect(JSON.stringify(await put.json())).toMatch(/bad\.rego:\d+.*rego_parse_error|rego_parse_error.*bad\.rego/);
    // Nothing changed: the server still decides with the policies it had.
    const still = await createOpaActivities({ server: opaServer({ url: backends.server.url }) }).opaDecide({ gate: gate(), input: input(), timeoutMs: 2_000 });
    expect(still).toMatchObject({ ok: true, answer: { outcome: 'allow' } });
    // A corrupt bundle (the Wasm module does not compile) is refused naming the file.
    const corrupt = join(backends.dir, 'corrupt.tar.gz');
    await writeFile(corrupt, await readFile(backends.bundle));
    const { parseTarGzip, createTarGzip } = await import('nanotar');
    const files = await parseTarGzip(await readFile(backends.bundle));
    await writeFile(corrupt, await createTarGzip(files.map((f) => (f.name.endsWith('policy.wasm') ? { name: f.name, data: new TextEncoder().encode('not wasm') } : { name: f.name, data: f.data! }))));
    const w = await createOpaActivities({ wasm: opaWasm({ bundle: corrupt }) }).opaDecide({ gate: gate(), input: input(), timeoutMs: 2_000 });
    expect(w).toMatchObject({ ok: false, backend: 'wasm', error: { kind: 'invalid', message: expect.stringMatching(new RegExp(`^policy bundle ${corrupt}: /policy.wasm does not compile: .*`)) } });
    const garbage = join(backends.dir, 'garbage.tar.gz');
    await writeFile(garbage, 'not a bundle');
    const g = await createOpaActivities({ wasm: opaWasm({ bundle: garbage }) }).opaDecide({ gate: gate(), input: input(), timeoutMs: 2_000 });
    expect(g).toMatchObject({ ok: false, error: { kind: 'invalid', message: expect.stringMatching(new RegExp(`^policy bundle ${garbage} is not a bundle \\(tar\\.gz\\) from opa build -t wasm: `)) } });
    const missing = await createOpaActivities({ wasm: opaWasm({ bundle: join(backends.dir, 'none.tar.gz') }) }).opaDecide({ gate: gate(), input: input(), timeoutMs: 2_000 });
    expect(!missing.ok && missing.error).toEqual({ kind: 'invalid', message: `policy bundle ${join(backends.dir, 'none.tar.gz')} cannot be read: ENOENT: no such file or directory, open '${join(backends.dir, 'none.tar.gz')}'` });
  });

  it('OPA down or slow is unavailable within the deadline; no backend configured says which setting', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await createOpaActivities({ server: opaServer({ url: closed }) }).opaDecide({ gate: gate(), input: input(), timeoutMs: 2_000 });
    expect(!down.ok && down.error).toEqual({ kind: 'unavailable', message: `OPA server ${closed}, rule data.medic.remediation.decision: ECONNREFUSED` });
    // A server that accepts and never answers: the deadline (300ms) ends the call.
    const hung: Server = createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    const port = (hung.address() as { port: number }).port;
    try {
      const started = Date.now();
      const slow = await createOpaActivities({ server: opaServer({ url: `http://127.0.0.1:${port}` }) }).opaDecide({ gate: gate(DECISION, '300ms'), input: input(), timeoutMs: 300 });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(!slow.ok && slow.error).toEqual({ kind: 'unavailable', message: `OPA server http://127.0.0.1:${port}, rule data.medic.remediation.decision: no answer within 300ms` });
    } finally {
      hung.closeAllConnections();
      await new Promise((r) => hung.close(r));
    }
    const none = await createOpaActivities({}).opaDecide({ gate: gate(), input: input(), timeoutMs: 2_000 });
    expect(none).toMatchObject({ ok: false, backend: 'none', error: { kind: 'unavailable', message: 'no OPA wasm is configured (config opa.bundle (MEDIC_OPA_BUNDLE))' } });
  });
});

describe('medic simulate with the policy gate', () => {
  it('evaluates the shipped canary playbook\'s policy for real (server, then Wasm bundle) and prints the decision', async () => {
    const file = join(backends.dir, 'canary.jsonl');
    const canary = (severity: string) => ({ ...firingAlert({ alertname: 'CanarySLOBreach', namespace: 'shop', rollout: 'web', feature: 'checkout-v2', severity }), receivedAt: Date.parse('2026-01-07T10:30:00Z') });
    await writeFile(file, `${JSON.stringify(canary('critical'))}\n`);
    // The shipped playbook shifts traffic first, and a simulated shift heals; the policy gates its
    // next step (the Rollout abort), so the prediction starts there: the shipped steps from it on.
    const shipped = parseYaml(await readFile(join(ROOT, 'playbooks/canary-slo-breach.yaml'), 'utf8')) as { steps: { name: string }[] };
    const fromAbort = join(backends.dir, 'canary-from-abort.yaml');
    await writeFile(fromAbort, toYaml({ ...shipped, steps: shipped.steps.slice(shipped.steps.findIndex((st) => st.name === 'abort canary')) }));
    const run = async (flags: { 'opa-url'?: string; 'opa-bundle'?: string }): Promise<string> => {
      const out: string[] = [];
      expect(await simulateCommand({ playbooks: fromAbort, alerts: file, ...flags }, { log: (l) => out.push(l), error: (l) => out.push(l) })).toBe(0);
      return out.join('\n');
    };
    const viaServer = await run({ 'opa-url': backends.server.url });
    expect(viaServer).toMatch(
      /^ {2}step 1\/2 \(abort canary\): policy medic\/remediation\/decision \(server, sha256 [0-9a-f]{12}\): REQUIRE APPROVAL by @sre-leads: major incident \(critical alert, 1 open incidents\): an automated rollout-abort needs approval$/m,
    );
    expect(viaServer).toContain('approval: would ask @sre-leads to approve step 1/2 (abort canary)');
    await writeFile(file, `${JSON.stringify(canary('warning'))}\n`);
    const viaWasm = await run({ 'opa-bundle': backends.bundle });
    expect(viaWasm).toMatch(/^ {2}step 1\/2 \(abort canary\): policy medic\/remediation\/decision \(wasm, sha256 [0-9a-f]{12}\): ALLOW$/m);
    // Without OPA the gate fails closed (onError: deny in the playbook): the prediction says so.
    const none = await run({});
    expect(none).toContain('DENY: OPA gave no decision: no OPA is configured for the simulation');
    expect(none).toContain('⇒ ESCALATES: policy medic/remediation/decision denied step 1/2 (abort canary)');
  });
});
