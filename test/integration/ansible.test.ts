// The ansible step on real parts: ansible-core (PyPI, .cache/ansible-venv) running the shipped
// ansible/restart-service.yml against real hosts — sshd instances on loopback ports (each with its
// own host dir, host keys and authorized_keys) and the local connection (the quick path) — on a
// real Temporal dev server, alerts through the real HTTP intake. Each host runs an HTTP service
// that the test breaks and the step heals; medic's HTTP probe verifies it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAnsibleActivities, type AnsibleRunInput, type AnsibleRunResult } from '../../activities/ansible.js';
import { parsePlaybook } from '../../src/playbooks/load.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { isKind, type EntryOf } from '../../workflows/contracts-timeline.js';
import type { IncidentStatus } from '../../workflows/contracts.js';
import { startAnsibleHosts, type AnsibleHosts } from '../support/ansible.js';
import { incidentIdFrom, startMedic, TOKENS, type Medic } from '../support/medic.js';
import { ROOT } from '../support/paths.js';
import { firingAlert } from '../support/fixtures.js';
import { withFingerprint } from '../../src/intake/ingest.js';
import { simulate } from '../../src/simulate/engine.js';
import { dryRunActuator } from '../../src/simulate/actuator.js';

let hosts: AnsibleHosts;
let m: Medic;

beforeAll(async () => {
  hosts = await startAnsibleHosts([
    { name: 'web-1', via: 'ssh', groups: ['web'] },
    { name: 'web-2', via: 'ssh', groups: ['web'] },
    { name: 'web-9', via: 'unreachable', groups: ['web'] },
    { name: 'db-1', via: 'local' },
    { name: 'local-1', via: 'local' },
  ], { withTestPlaybooks: true });
  m = await startMedic({ ansible: hosts.deps });
}, 120_000);
afterAll(async () => {
  await m?.stop();
  await hosts?.stop();
});

/** The shipped playbook, as `medic validate` loads it, verifying web-1's service; approvals by bob. */
function shipped(over: (pb: Playbook) => Playbook = (pb) => pb): Playbook {
  const text = readFileSync(join(ROOT, 'playbooks/host-service-down-ansible.yaml'), 'utf8');
  const r = parsePlaybook(text, 'host-service-down-ansible.yaml', { MEDIC_PB_HOST_SERVICE_URL: hosts.hosts['web-1']!.serviceUrl });
  expect(r.problems).toEqual([]);
  const pb = r.playbook!;
  const step = pb.steps[0]!;
  return over({ ...pb, steps: [{ ...step, approvers: ['bob'], verification: { ...step.verification!, window: '1s', interval: '500ms', deadline: '30s' } }] });
}

const run = async (input: AnsibleRunInput, heartbeats: unknown[] = []): Promise<AnsibleRunResult> => {
  const env = new MockActivityEnvironment({});
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  return (await env.run(createAnsibleActivities(hosts.deps).ansiblePlaybook, input)) as AnsibleRunResult;
};
const input = (over: Partial<AnsibleRunInput> = {}): AnsibleRunInput => ({
  playbook: 'restart-service.yml',
  limit: ['local-1'],
  extraVars: { service: 'demo' },
  allow: { hosts: ['local-*'] },
  blastRadius: 1,
  idempotencyKey: 'incident:quick:abc:run1:step-0:try-1',
  dryRun: false,
  timeoutMs: 60_000,
  ...over,
});

describe('ansiblePlaybook over the local connection (the quick path)', () => {
  // (--check --diff on real hosts: the approval preview and medic simulate, below.)
  it('heals the service, and a rerun of the same key reports "already applied"', async () => {
    expect(await hosts.serviceUp('local-1')).toBe(false);
    const beats: unknown[] = [];
    const applied = await run(input(), beats);
    expect(applied.report.hosts).toEqual([{ host: 'local-1', status: 'changed', changedTasks: ['restart demo (process)'] }]);
    expect(applied.summary).toBe('restart-service.yml on local-1: 1 changed, 0 ok, 0 already applied');
    expect(beats.some((b) => typeof (b as { pid?: unknown }).pid === 'number'), 'a heartbeat naming the ansible process').toBe(true);
    await expect.poll(() => hosts.serviceUp('local-1'), { timeout: 10_000 }).toBe(true);

    const again = await run(input());
    expect(again.report.hosts).toEqual([{ host: 'local-1', status: 'already-applied', changedTasks: [] }]);
    expect(hosts.markers('local-1')).toHaveLength(1);
  }, 90_000);

  it('refuses a playbook outside the playbook directory, a missing one, and hosts outside the allow-list or the blast radius', async () => {
    await expect(run(input({ playbook: '../etc/passwd.yml' }))).rejects.toThrow(/refused, nothing ran: playbook "\.\.\/etc\/passwd\.yml" is not a file name relative to ansible\.playbookDir/);
    await expect(run(input({ playbook: 'missing.yml' }))).rejects.toThrow(/refused, nothing ran: playbook missing\.yml not found in /);
    await expect(run(input({ limit: ['db-1'] }))).rejects.toThrow(/refused, nothing ran: host\(s\) db-1 not in allow\.ansible\.hosts \[local-\*\]/);
    await expect(run(input({ limit: ['web'], allow: { hosts: ['web-*'] }, blastRadius: 2 }))).rejects.toThrow(/the limit resolves to 3 hosts \(web-1, web-2, web-9\), above the blast radius of 2/);
    await expect(run(input({ limit: ['nosuch'] }))).rejects.toThrow(/no host or group nosuch in the inventory/);
  }, 60_000);

  it('cancellation kills the ansible process group', async () => {
    const env = new MockActivityEnvironment({});
    let pid: number | undefined;
    env.on('heartbeat', (d: unknown) => void (pid ??= (d as { pid?: number }).pid));
    const running = env.run(createAnsibleActivities(hosts.deps).ansiblePlaybook, input({ playbook: 'held-restart.yml', idempotencyKey: 'incident:quick:abc:run1:step-0:try-9' }));
    await expect.poll(() => hosts.runs('local-1'), { timeout: 30_000 }).toBe(1); // waiting for a release that never comes
    expect(pid).toBeGreaterThan(0);
    env.cancel();
    await expect(running).rejects.toThrow();
    const alive = (p: number): boolean => {
      try {
        process.kill(-p, 0);
        return true;
      } catch {
        return false;
      }
    };
    await expect.poll(() => alive(pid!), { timeout: 10_000 }).toBe(false);
    expect(hosts.markers('local-1')).toHaveLength(1); // only the earlier test's
  }, 60_000);
});

describe('an ansible step through the intake, over SSH', () => {
  it('heals a broken service on an SSH host: approval, the step, HTTP verification; the timeline lists each host', async () => {
    m.playbooks.push(shipped());
    hosts.startService('web-1');
    await expect.poll(() => hosts.serviceUp('web-1'), { timeout: 10_000 }).toBe(true);
    hosts.breakService('web-1');
    await expect.poll(() => hosts.serviceUp('web-1'), { timeout: 10_000 }).toBe(false);

    const res = await m.postAlerts('firing', { alertname: 'HostServiceDown', host: 'web-1', service: 'demo', severity: 'critical' });
    expect(res.status).toBe(202);
    const id = await incidentIdFrom(res);
    const waiting = await m.waitFor(id, (s) => s.status === 'awaiting_approval', 60_000);
    expect(waiting.pendingApproval?.what).toContain('Ansible playbook restart-service.yml on web-1');
    // The request shows the step's own dry run: --check --diff on the host, which changed nothing.
    expect(waiting.pendingApproval?.preview).toBe('check (--check --diff) of restart-service.yml on web-1: 1 changed, 0 ok, 0 already applied');
    expect(await hosts.serviceUp('web-1')).toBe(false);
    expect((await m.api('POST', `/api/incidents/${encodeURIComponent(id)}/approve`, TOKENS.bob, {})).status).toBe(200);
    const done = await m.waitFor(id, (s) => s.endedAt !== undefined, 90_000);
    expect(done.status, done.outcome).toBe('resolved');
    expect(await hosts.serviceUp('web-1')).toBe(true);
    expect(hosts.markers('web-1')).toHaveLength(1);
    const t = await m.timeline(id);
    const ran = t.filter(isKind('action.hosts')).find((e) => !e.data.check);
    expect(ran?.data).toEqual({ playbook: 'restart-service.yml', check: false, hosts: [{ host: 'web-1', status: 'changed', changedTasks: ['restart demo (process)'] }] });
    console.log(`an ansible step's timeline entry:\n${JSON.stringify(ran, null, 2)}`);
  }, 180_000);
});

describe('medic simulate', () => {
  it('predicts an ansible step with --check --diff on the host; nothing changes', async () => {
    // Without approval: one check run (the approval request's preview is the heal test's).
    const pb = shipped((p) => ({ ...p, name: 'host-service-simulated', steps: [{ ...p.steps[0]!, requiresApproval: false }] }));
    const alert = withFingerprint({ ...firingAlert({ alertname: 'HostServiceDown', host: 'web-2', service: 'demo' }), receivedAt: Date.now() });
    const result = await simulate([alert], { playbooks: [pb], actuator: dryRunActuator({ ansible: hosts.deps }) });
    const events = result.incidents[0]!.events;
    const action = events.find((e) => e.kind === 'action');
    expect(action?.kind === 'action' && action.dryRun).toBe('check (--check --diff) of restart-service.yml on web-2: 1 changed, 0 ok, 0 already applied');
    expect(hosts.markers('web-2')).toEqual([]);
    expect(await hosts.serviceUp('web-2')).toBe(false);
  }, 90_000);
});

describe('bad input, and hostile labels through the intake', () => {
  const settled = (id: string): Promise<IncidentStatus> => m.waitFor(id, (s) => s.endedAt !== undefined || s.status === 'escalated', 90_000);
  const fire = async (labels: Record<string, string>): Promise<string> => {
    const res = await m.postAlerts('firing', { alertname: 'HostServiceAttacked', severity: 'critical', ...labels });
    expect(res.status).toBe(202);
    return incidentIdFrom(res);
  };

  it('refuses a label that tries to widen the limit or inject into extra-vars; only the allow-list picks hosts', async () => {
    const before = ['web-1', 'web-2', 'db-1'].map((h) => hosts.markers(h).length);
    // The shipped playbook matches host=~web-[0-9]+ only: such a label never reaches it.
    const unmatched = await m.postAlerts('firing', { alertname: 'HostServiceDown', severity: 'critical', host: 'web-1,all', service: 'demo' });
    expect(await unmatched.json()).toMatchObject({ incidents: [], unmatched: 1 });
    // A copy that matches any host label: medic's own checks refuse what follows.
    m.playbooks.push(shipped((p) => ({ ...p, name: 'host-service-any-label', match: { alertname: 'HostServiceAttacked' } })));
    const attacks: [Record<string, string>, RegExp][] = [
      [{ host: 'web-1,all', service: 'demo' }, /params\.limit\.0 value "web-1,all" is not one inventory host or group name/],
      [{ host: 'web-1 -e @/etc/passwd', service: 'demo' }, /params\.limit\.0 value "web-1 -e @\/etc\/passwd" is not one inventory host or group name/],
      [{ host: 'web-1:!db-1', service: 'demo' }, /params\.limit\.0 value "web-1:!db-1" is not one inventory host or group name/],
      [{ host: 'web-1', service: '$(touch /tmp/medic-pwned)' }, /params\.extraVars\.service value "\$\(touch \/tmp\/medic-pwned\)" is not a plain value/],
      [{ host: 'web-1', service: '{{ lookup("pipe", "id") }}' }, /params\.extraVars\.service value .* is not a plain value/],
      [{ host: 'web-1', service: '-e' }, /params\.extraVars\.service value "-e" is not a plain value/],
      [{ host: 'db-1', service: 'demo' }, /params\.limit\.0 value "db-1" does not match allow\.ansible\.hosts \[web-\*\]/],
      [{ host: 'all', service: 'demo' }, /params\.limit\.0 value "all" does not match allow\.ansible\.hosts \[web-\*\]/],
    ];
    const ids = await Promise.all(attacks.map(([labels]) => fire(labels)));
    for (const [i, id] of ids.entries()) {
      const s = await settled(id);
      expect(s.status).toBe('escalated');
      const blocked = (await m.timeline(id)).filter(isKind('gate.blocked'))[0] as EntryOf<'gate.blocked'> | undefined;
      expect(blocked?.data.refusal?.message).toMatch(attacks[i]![1]);
      expect((await m.timeline(id)).some(isKind('action.started')), 'nothing ran').toBe(false);
    }
    expect(['web-1', 'web-2', 'db-1'].map((h) => hosts.markers(h).length)).toEqual(before);
  }, 180_000);

  it('a missing playbook and an unreachable host fail their steps naming the host, the other host is reported, the incident escalates', async () => {
    const pb = shipped((p) => {
      const step = p.steps[0]!;
      if (step.action !== 'ansible') throw new Error('expected an ansible step');
      const plain = { ...step, requiresApproval: false, verification: undefined };
      return {
        ...p,
        name: 'host-service-bad-input',
        match: { alertname: 'HostServiceBroken' },
        limits: { ...p.limits, blastRadius: 2 },
        steps: [
          { ...plain, name: 'missing-playbook', params: { ...step.params, playbook: 'no-such-playbook.yml' } },
          { ...plain, name: 'two-hosts', retries: 0, params: { ...step.params, limit: ['web-2', 'web-9'] } },
        ],
      };
    });
    m.playbooks.push(pb);
    const res = await m.postAlerts('firing', { alertname: 'HostServiceBroken', host: 'web-2', service: 'demo', severity: 'critical' });
    const id = await incidentIdFrom(res);
    const s = await settled(id);
    expect(s.status).toBe('escalated');
    const t = await m.timeline(id);
    const failed = t.filter(isKind('action.failed'));
    expect(failed[0]?.message).toMatch(/missing-playbook\) failed: refused, nothing ran: playbook no-such-playbook\.yml not found in /);
    expect(failed[1]?.message).toMatch(/two-hosts\) failed: restart-service\.yml on web-2, web-9: web-9 unreachable \(.*\); others: 1 changed, 0 ok, 0 already applied/);
    const report = t.filter(isKind('action.hosts')).at(-1);
    expect(report?.data.hosts.map((h) => [h.host, h.status])).toEqual([
      ['web-2', 'changed'],
      ['web-9', 'unreachable'],
    ]);
    expect(report?.data.hosts[1]?.message).toMatch(/ssh|connect/i);
  }, 180_000);
});
