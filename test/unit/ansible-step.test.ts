// The ansible step's pure parts: its schema and allow rule, the checks of rendered limits and
// extra-vars (alert data is hostile), the vars file, the inventory index, the JSON callback
// reader, and the decision core's dry run before approval (--check --diff in the request).
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inventoryIndex, varsFile } from '../../activities/ansible.js';
import { hostResults, parseJsonCallback } from '../../activities/ansible-report.js';
import { ansibleRefusal, resolvedHostsProblem, type AnsibleParams } from '../../src/playbooks/ansible.js';
import { PlaybookSchema, type PlaybookInput } from '../../src/playbooks/schema.js';
import type { TemplateContext } from '../../src/playbooks/template.js';
import { approvalMessage } from '../../src/slack/ui/approval.js';
import { ALLOW, coreDriver } from '../support/incident-core.js';

const step = (params: Record<string, unknown>, over: Record<string, unknown> = {}) => ({ name: 'restart', action: 'ansible' as const, params: { playbook: 'restart-service.yml', limit: ['{{labels.host}}'], ...params }, ...over });
const pb = (s: ReturnType<typeof step>, allow: PlaybookInput['allow'] = { ansible: { hosts: ['web-*'] } }): PlaybookInput => ({ name: 'hosts', match: { alertname: 'HostServiceDown' }, allow, steps: [s] });
const issues = (input: PlaybookInput): string[] => {
  const r = PlaybookSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('the ansible step schema', () => {
  it('accepts the step with allow.ansible, and requires the allow-list for every ansible step', () => {
    expect(issues(pb(step({ extraVars: { service: '{{labels.service}}' } })))).toEqual([]);
    expect(issues(pb(step({}), {}))).toEqual(['steps.0.params.limit: an ansible step needs allow.ansible.hosts: the hosts it may run on (alert data can only pick among them)']);
  });

  it('refuses playbook paths that leave the playbook directory, templated playbooks and medic_* extra-vars', () => {
    for (const bad of ['../etc/x.yml', '/etc/x.yml', 'a/../../x.yml', './x.yml', 'x.sh', 'a/./x.yml']) {
      expect(issues(pb(step({ playbook: bad }))).join(), bad).toMatch(/steps\.0\.params\.playbook: must be a \.yml\/\.yaml file name relative to the configured ansible\.playbookDir/);
    }
    expect(issues(pb(step({ playbook: 'roles/{{labels.x}}.yml' }))).join()).toMatch(/may not be a template/);
    expect(issues(pb(step({ extraVars: { medic_idempotency_key: 'x' } })))).toEqual(['steps.0.params.extraVars.medic_idempotency_key: medic_* variables are set by medic']);
    expect(issues(pb(step({ extraVars: { 'Bad-Name': 'x' } })))).toEqual(['steps.0.params.extraVars.Bad-Name: "Bad-Name" must be a variable name (lowercase letters, digits, _; at most 64)']);
    expect(issues(pb(step({ playbook: 'site/restart.yaml' })))).toEqual([]);
  });
});

describe('rendered limits and extra-vars (alert data is hostile)', () => {
  const ctx = (labels: Record<string, string>): TemplateContext => ({ incident: { id: 'i', workflowId: 'w' }, labels, annotations: {}, target: 't' });
  const params: AnsibleParams = { playbook: 'restart-service.yml', limit: ['{{labels.host}}'], extraVars: { service: '{{labels.service}}' } };
  const allow = { hosts: ['web-*', '~api-[0-9]+'] };
  const refusal = (labels: Record<string, string>, p = params) => ansibleRefusal(p, ctx({ service: 'demo', ...labels }), allow)?.message;

  it.each([
    ['web-1,all', /^params\.limit\.0 value "web-1,all" is not one inventory host or group name/],
    ['web-*', /is not one inventory host or group name/],
    ['@/etc/hosts', /is not one inventory host or group name/],
    ['-e', /is not one inventory host or group name/],
    ['web-1 all', /is not one inventory host or group name/],
    ['web-1:&db', /is not one inventory host or group name/],
    ['!db-1', /is not one inventory host or group name/],
    ['~.*', /is not one inventory host or group name/],
    ['', /is not one inventory host or group name/],
    ['all', /^params\.limit\.0 value "all" does not match allow\.ansible\.hosts \[web-\*, ~api-\[0-9\]\+\]$/],
    ['db-1', /does not match allow\.ansible\.hosts/],
    ['api-x', /does not match allow\.ansible\.hosts/],
  ])('refuses host label %j', (host, want) => expect(refusal({ host })).toMatch(want));

  it.each([['web-1'], ['api-12'], ['web-01.example.com']])('admits host label %j', (host) => expect(refusal({ host })).toBeUndefined());

  it.each([['$(id)'], ['a b'], ['-e'], ['@file'], ['{{ lookup("pipe","id") }}'], ['x;rm -rf /'], ["it's"], ['a\nb'], ['x'.repeat(200)]])('refuses extra-var value %j', (service) =>
    expect(refusal({ host: 'web-1', service })).toMatch(/^params\.extraVars\.service value .* is not a plain value/),
  );

  it('lets a literal limit name a group (the activity expands it and checks every host)', () => {
    expect(refusal({}, { ...params, limit: ['web'] })).toBeUndefined();
    expect(resolvedHostsProblem(['web-1', 'db-1'], allow, 5)).toBe('host(s) db-1 not in allow.ansible.hosts [web-*, ~api-[0-9]+]');
    expect(resolvedHostsProblem(['web-1', 'web-2', 'web-3'], allow, 2)).toBe('the limit resolves to 3 hosts (web-1, web-2, web-3), above the blast radius of 2');
    expect(resolvedHostsProblem(['web-1', 'api-2'], allow, 2)).toBeUndefined();
  });
});

describe('what the activity gives ansible and reads back', () => {
  it('writes extra-vars as !unsafe YAML strings that read back verbatim', () => {
    const vars = { service: 'de"mo\n{{ x }}', medic_idempotency_key: 'incident:pb:abc:run:step-0:try-1' };
    const text = varsFile(vars);
    expect(text).toContain('service: !unsafe "de\\"mo\\n{{ x }}"');
    expect(parse(text, { customTags: [{ tag: '!unsafe', resolve: (s: string) => s }] })).toEqual(vars);
  });

  it('indexes an inventory: hosts, and groups with their children expanded', () => {
    const idx = inventoryIndex({
      _meta: { hostvars: { 'web-1': {}, lonely: {} } } as never,
      all: { children: ['ungrouped', 'web', 'prod'] },
      ungrouped: { hosts: ['lonely'] },
      web: { hosts: ['web-1', 'web-2'] },
      prod: { children: ['web'], hosts: ['db-1'] },
    });
    expect([...idx.hosts].sort()).toEqual(['db-1', 'lonely', 'web-1', 'web-2']);
    expect(idx.groups.get('prod')).toEqual(['db-1', 'web-1', 'web-2']);
    expect(idx.groups.get('all')?.sort()).toEqual(['db-1', 'lonely', 'web-1', 'web-2']);
  });

  it('reads per-host results from the JSON callback: changed tasks, already applied, failed (redacted), unreachable, check-mode commands', () => {
    const r = (hosts: Record<string, unknown>, name: string) => ({ task: { name }, hosts });
    const out = `[WARNING]: something\n${JSON.stringify({
      plays: [
        {
          tasks: [
            r({ a: { changed: false, ansible_facts: { medic_already_applied: true } }, b: { changed: false }, c: { changed: false }, d: { unreachable: true, msg: 'Failed to connect to the host via ssh: Connection refused' } }, 'medic: already applied'),
            r({ b: { changed: true, diff: [{ before_header: '/etc/demo.conf', after_header: '/etc/demo.conf', before: 'a=1', after: 'a=2' }] }, c: { failed: true, msg: 'boom password=hunter2 token: abc' } }, 'write config'),
            r({ b: { skipped: true, changed: false, msg: 'Command would have run if not in check mode' } }, 'restart demo (process)'),
            r({ b: { changed: true } }, 'medic: record the marker'),
          ],
        },
      ],
      stats: { a: { ok: 2, changed: 0 }, b: { ok: 3, changed: 2 }, c: { failures: 1 }, d: { unreachable: 1 } },
    })}`;
    const parsed = parseJsonCallback(out);
    expect(parsed).toBeDefined();
    expect(hostResults(parsed!, ['a', 'b', 'c', 'd', 'e'])).toEqual([
      { host: 'a', status: 'already-applied', changedTasks: [] },
      { host: 'b', status: 'changed', changedTasks: ['write config', 'restart demo (process)'], diff: '--- /etc/demo.conf\n+++ /etc/demo.conf\n-a=1\n+a=2' },
      { host: 'c', status: 'failed', changedTasks: [], failedTask: 'write config', message: 'boom password=[REDACTED] token: [REDACTED]' },
      { host: 'd', status: 'unreachable', changedTasks: [], failedTask: 'medic: already applied', message: 'Failed to connect to the host via ssh: Connection refused' },
      { host: 'e', status: 'unreachable', changedTasks: [], message: 'the run never reached this host' },
    ]);
    expect(parseJsonCallback('ERROR! the playbook could not be parsed')).toBeUndefined();
  });
});

describe('the decision core: an ansible step', () => {
  it('counts the limit\'s hosts against the blast radius (the gate blocks before anything runs)', () => {
    const two = PlaybookSchema.parse(pb(step({ limit: ['{{labels.host}}', 'web-2'] })));
    const d = coreDriver(two, { labels: { alertname: 'HostServiceDown', host: 'web-1' } });
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false } });
    expect(d.kinds(d.all)).not.toContain('runAction');
    expect(d.notes()).toContain('step 1/1 (restart) blocked: step would touch 2 targets (web-1, web-2), above the blast radius of 1');
  });
});

describe('the decision core: an ansible step that needs approval', () => {
  const approved = pb(step({ extraVars: { service: 'demo' } }, { requiresApproval: true, approvers: ['U0LEAD'] }));

  it('runs its dry run (--check --diff) first and shows it in the approval request, then runs for real once approved', () => {
    const d = coreDriver(PlaybookSchema.parse(approved), { labels: { alertname: 'HostServiceDown', host: 'web-1' } });
    d.send({ kind: 'start', carried: false });
    const before = d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false } });
    expect(d.kinds(before)).toEqual(['preview', 'publish']);
    expect(before[0]).toMatchObject({ kind: 'preview', step: 0, stepTry: 1, idempotencyKey: 'inc-1:step-0:try-1' });
    const hosts = { playbook: 'restart-service.yml', check: true, hosts: [{ host: 'web-1', status: 'changed' as const, changedTasks: ['restart demo (process)'] }] };
    const asked = d.send({ kind: 'previewed', outcome: { ok: true, summary: 'check (--check --diff) of restart-service.yml on web-1: 1 changed, 0 ok, 0 already applied', durationMs: 900, data: {}, hosts } });
    expect(d.kinds(asked)).toEqual(['requestApproval', 'setStatus', 'startTimer', 'publish']);
    expect(d.state.pendingApproval?.preview).toBe('check (--check --diff) of restart-service.yml on web-1: 1 changed, 0 ok, 0 already applied');
    expect(d.notes()).toContain('step 1/1 (restart) before approval: check (--check --diff) of restart-service.yml on 1 host(s): web-1 changed (restart demo (process))');
    const slack = approvalMessage('wf-1', d.state.pendingApproval!);
    expect(JSON.stringify(slack.blocks)).toContain('*Dry run:* check (--check --diff) of restart-service.yml on web-1: 1 changed');

    d.send({ kind: 'decided', decision: { decision: 'approve', user: 'U0LEAD' } });
    const go = d.send({ kind: 'admitted', result: ALLOW });
    expect(d.kinds(go)).toContain('runAction');
    expect(d.kinds(d.all).filter((k) => k === 'preview')).toHaveLength(1);
  });
});
