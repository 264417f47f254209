// The pure parts of the SSM actions: output redaction and capping, idempotency markers, and the
// playbook schema's ssm-command / ssm-automation steps.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';
import { automationClientToken, commandComment } from '../../activities/ssm.js';
import { capOutput, redact } from '../../activities/redact.js';
import { parsePlaybook } from '../../src/playbooks/load.js';
import { playbook, problems } from '../support/playbook-text.js';

describe('output redaction', () => {
  it('masks keys, tokens and secret-looking assignments, and leaves ordinary output alone', () => {
    const out = redact(
      [
        'Filesystem Size Used Avail Use% Mounted on',
        '/dev/xvda1 20G 19G 1.0G 95% /',
        'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE',
        'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        'raw wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end',
        'DB_PASSWORD: hunter2',
        'Authorization: Bearer abcdefghijklmnop',
        'slack xoxb-1234567890-abcdefghij',
        '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
        'commit 3f786850e387550fdab836ed7e6dc881de23001b',
      ].join('\n'),
    );
    expect(out).toContain('/dev/xvda1 20G 19G 1.0G 95% /');
    for (const secret of ['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'hunter2', 'abcdefghijklmnop', 'xoxb-1234567890', 'MIIEow']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('DB_PASSWORD: [REDACTED]');
    expect(out).toContain('Bearer [REDACTED]');
    expect(out).toContain('3f786850e387550fdab836ed7e6dc881de23001b'); // a git hash is not a secret
  });

  it('caps at 2 KB of UTF-8, keeping head and tail, after redacting', () => {
    const long = `password=topsecret ${'é'.repeat(3000)} last line`;
    const capped = capOutput(long);
    expect(Buffer.byteLength(capped, 'utf8')).toBeLessThanOrEqual(2048);
    expect(capped.startsWith('password=[REDACTED]')).toBe(true);
    expect(capped.endsWith('last line')).toBe(true);
    expect(capped).toMatch(/…\[\d+ bytes truncated\]…/);
    expect(capped).not.toContain('\uFFFD');
    expect(capOutput('short')).toBe('short');
  });
});

describe('idempotency markers', () => {
  it('the Automation ClientToken is a UUID derived from the key: the same on every attempt', () => {
    const t = automationClientToken('incident:a:b:step-0:try-1');
    expect(t).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(automationClientToken('incident:a:b:step-0:try-1')).toBe(t);
    expect(automationClientToken('incident:a:b:step-0:try-2')).not.toBe(t);
  });

  it('the Run Command Comment holds the key when it fits', () => {
    expect(commandComment('incident:disk:ab12:cd34:step-0:try-1')).toBe('medic incident:disk:ab12:cd34:step-0:try-1');
  });
});


describe('ssm steps in playbooks', () => {
  it('an ssm-command step loads with defaults; parameters may be a string or a list', () => {
    const r = parsePlaybook(
      playbook(`  - name: clean
    action: ssm-command
    params:
      document: AWS-RunShellScript
      instanceIds: ['{{labels.instance_id}}']
      parameters:
        commands: [df -h]
        executionTimeout: '60'
`, "allow: { ssm: { instanceTags: { medic-managed: ['true'] } } }\n"),
      'pb.yaml',
    );
    expect(r.problems).toEqual([]);
    expect(r.playbook?.steps[0]).toMatchObject({
      action: 'ssm-command',
      params: { document: 'AWS-RunShellScript', targets: [], parameters: { commands: ['df -h'], executionTimeout: '60' } },
    });
  });

  it('errors point at the line: unknown action, missing targets, unknown key, bad document', () => {
    // Other step actions follow in the list; the SSM ones must be among them.
    const [unknown, ...more] = problems(playbook(`  - name: x\n    action: ssm-comand\n    params: {}\n`));
    expect(more).toEqual([]);
    expect(unknown).toMatch(/^6:5: steps\.0\.action: Invalid discriminator value\. Expected 'http' \| 'ssm-command' \| 'ssm-automation'( \| '[a-z-]+')*$/);
    expect(problems(playbook(`  - name: x\n    action: ssm-command\n    params:\n      document: AWS-RunShellScript\n`))).toEqual([
      '7:5: steps.0.params.instanceIds: ssm-command needs instanceIds or targets',
    ]);
    expect(
      problems(playbook(`  - name: x\n    action: ssm-automation\n    params:\n      document: 'no spaces allowed'\n      url: http://a\n`)),
    ).toEqual([
      '8:7: steps.0.params.document: must be an SSM document name (3-128 of letters, digits, _ . -) or an ARN',
      '9:7: steps.0.params: Unrecognized key: "url"',
    ]);
  });
});

describe('deploy/aws/iam-policy.json', () => {
  it('grants exactly the SSM calls the actions make (plus PassRole to SSM), never a wildcard action', () => {
    const policy = JSON.parse(readFileSync(join(ROOT, 'deploy/aws/iam-policy.json'), 'utf8')) as {
      Version: string;
      Statement: { Effect: string; Action: string | string[]; Resource: string | string[] }[];
    };
    expect(policy.Version).toBe('2012-10-17');
    const actions = new Set(policy.Statement.flatMap((s) => [s.Action].flat()));
    expect([...actions].sort()).toEqual([
      'ec2:DescribeTags',
      'iam:PassRole',
      'ssm:GetAutomationExecution',
      'ssm:GetCommandInvocation',
      'ssm:GetDocument',
      'ssm:ListCommandInvocations',
      'ssm:ListCommands',
      'ssm:ListTagsForResource',
      'ssm:SendCommand',
      'ssm:StartAutomationExecution',
    ]);
    expect(policy.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
    // Only the List/Get calls that have no resource-level permissions run on "*".
    const star = policy.Statement.filter((s) => [s.Resource].flat().includes('*')).flatMap((s) => [s.Action].flat());
    expect(star.sort()).toEqual(['ec2:DescribeTags', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations', 'ssm:ListCommands']);
    // Run Command only with medic's own typed documents: never a shell document that takes script text.
    const send = policy.Statement.filter((s) => [s.Action].flat().includes('ssm:SendCommand')).flatMap((s) => [s.Resource].flat());
    expect(send.filter((r) => r.includes(':document/'))).toEqual(['arn:aws:ssm:*:*:document/Medic-CleanDisk']);
  });
});
