// Exactly once for the ansible step: ansible-core runs test/fixtures/ansible/held-restart.yml (the
// shipped ansible/restart-service.yml behind a hold) on two sshd hosts; the medic worker process
// is killed with SIGKILL while ansible runs (after "ansible started", before "activity
// completed"), then the hold is released, so the orphaned run finishes and writes its markers. A
// warm spare takes over once the heartbeat times out; the retried activity waits for the orphan
// (its pid is in the heartbeat details) and runs again: every host reports "already applied",
// and each host holds exactly one marker. Runs that reached a host are counted in its runs.log.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PlaybookSchema } from '../../src/playbooks/schema.js';
import { isKind } from '../../workflows/contracts-timeline.js';
import { timelineQuery } from '../../workflows/contracts.js';
import type { Exchange } from '../support/crash-proxy.js';
import { firingAlert, stopAll } from '../support/fixtures.js';
import { startAnsibleHosts, type AnsibleHosts } from '../support/ansible.js';
import { startCrashHarness, type CrashHarness, type CrashTarget } from './crash-harness.js';

const HOSTS = ['web-1', 'web-2'];
let hosts: AnsibleHosts;
let harness: CrashHarness;

beforeAll(async () => {
  hosts = await startAnsibleHosts(HOSTS.map((name) => ({ name, via: 'ssh' as const, groups: ['web'] })), { withTestPlaybooks: true });
  harness = await startCrashHarness(() => hosts.env);
}, 300_000);
afterAll(() => stopAll(harness, hosts));

/** The runs logged on the hosts, as exchanges: every host's first run, then every host's second… */
function ansibleRuns(): CrashTarget {
  const exchanges = (): Exchange[] => {
    const counts = HOSTS.map((h) => hosts.runs(h));
    const out: Exchange[] = [];
    for (let run = 1; run <= Math.max(0, ...counts); run++) {
      HOSTS.forEach((h, i) => counts[i]! >= run && out.push({ n: out.length + 1, method: 'ANSIBLE', url: h, body: `run ${run}`, at: Date.now(), fate: 'passed' }));
    }
    return out;
  };
  return {
    get exchanges() {
      return exchanges();
    },
    // Held: the run reached every host and waits there for the release.
    hold: async () => {
      for (;;) {
        if (HOSTS.every((h) => hosts.runs(h) >= 1)) return exchanges()[0]!;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    deliver: () => Promise.reject(new Error('an ansible run has no answer to deliver')),
    drop: () => HOSTS.forEach((h) => hosts.release(h)),
  };
}

it('ansible: SIGKILL of the worker while ansible runs → the retry reports "already applied" on every host, one marker per host', async () => {
  const playbook = PlaybookSchema.parse({
    name: 'crash-ansible',
    match: { alertname: 'CrashAnsible' },
    groupBy: ['alertname'],
    target: 'hosts/web',
    allow: { ansible: { hosts: ['web-*'] } },
    limits: { blastRadius: 2, maxActionsPerHourGlobal: 1000, maxConcurrentGlobal: 100, maxActionsPerHourPerTarget: 100 },
    steps: [
      {
        name: 'restart-service',
        action: 'ansible',
        timeout: '2m',
        retries: 5,
        params: { playbook: 'held-restart.yml', limit: ['web'], extraVars: { service: 'demo' } },
        verification: { http: { url: hosts.hosts['web-1']!.serviceUrl }, window: '1s', interval: '500ms', deadline: '60s' },
      },
    ],
  });
  let workflowId = '';
  const target = ansibleRuns();
  const [row] = await harness.run('ansible', [
    {
      actuator: 'ansible (2 sshd hosts)',
      point: 'before-target',
      label: 'ansible running (started, not completed)',
      playbook,
      proxy: target,
      effect: (e) => e.body === 'run 1',
      touches: () => true,
      activity: 'ansiblePlaybook',
      start: async (ctx) => {
        const held = ctx.arm();
        workflowId = await ctx.fire(firingAlert({ alertname: 'CrashAnsible', service: 'web' }));
        return { workflowId, held };
      },
      applied: async () => Math.max(...HOSTS.map((h) => hosts.markers(h).length)),
      expected: 'resolved',
    },
  ]);
  expect(row?.applied).toBe(1);
  expect(HOSTS.map((h) => hosts.markers(h).length), 'one marker per host').toEqual([1, 1]);
  expect(HOSTS.map((h) => hosts.runs(h)), 'the orphaned run and the retry reached each host').toEqual([2, 2]);
  const timeline = await harness.env.client.workflow.getHandle(workflowId).query(timelineQuery);
  const report = timeline.filter(isKind('action.hosts')).at(-1);
  expect(report?.data.hosts.map((h) => [h.host, h.status])).toEqual([
    ['web-1', 'already-applied'],
    ['web-2', 'already-applied'],
  ]);
  expect(await hosts.serviceUp('web-1')).toBe(true);
}, 600_000);
