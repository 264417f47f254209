// moto in server mode: the real AWS SSM API for the SSM action tests (provisioned into
// .cache/moto-venv by scripts/provision.sh). A missing moto fails the test; it never skips.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateTagsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { freePort } from '../../dev/ports.js';
import { ROOT } from './paths.js';

export const motoServerPath = (): string => process.env.MEDIC_MOTO_SERVER ?? join(ROOT, '.cache/bin/moto_server');

export interface Moto {
  url: string;
  /** An SDK client pointed at moto (dummy credentials; moto accepts any). */
  ssm: SSMClient;
  /** EC2 at moto: instances and their tags (what SSM tag targets and allow.ssm.instanceTags read). */
  ec2: EC2Client;
  /** Creates an SSM document (YAML content). */
  createDocument(name: string, content: string, type?: 'Command' | 'Automation'): Promise<void>;
  /** Creates a document shipped in deploy/aws/ssm-documents/<name>.yaml. */
  createShippedDocument(name: string, type?: 'Command' | 'Automation'): Promise<void>;
  /** Tags an instance id in EC2 (moto needs no instance for that). Prefer it to runInstance:
   * moto adds every running instance to each command sent without Targets. */
  tagInstance(instanceId: string, tags: Record<string, string>): Promise<void>;
  /** A running EC2 instance with these tags (for tag targets, which moto resolves); returns its id. */
  runInstance(tags?: Record<string, string>): Promise<string>;
  /** Forgets every command and resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** The standard AWS chain reads these; moto accepts any credentials. */
export function useMotoCredentials(): void {
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

export async function startMoto(timeoutMs = 30_000): Promise<Moto> {
  const bin = motoServerPath();
  if (!existsSync(bin)) throw new Error(`missing ${bin}: run "bash scripts/provision.sh" (npm test does it for you)`);
  useMotoCredentials();
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${stderr}`);
    try {
      if ((await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1_000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`moto_server did not answer on ${url} within ${timeoutMs}ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const clientOptions = { endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  const ssm = new SSMClient(clientOptions);
  const ec2 = new EC2Client(clientOptions);
  const createDocument = async (name: string, content: string, type: 'Command' | 'Automation' = 'Command'): Promise<void> => {
    await ssm.send(new CreateDocumentCommand({ Name: name, Content: content, DocumentType: type, DocumentFormat: 'YAML' }));
  };
  return {
    url,
    ssm,
    ec2,
    createDocument,
    createShippedDocument: (name, type) => createDocument(name, readFileSync(join(ROOT, 'deploy/aws/ssm-documents', `${name}.yaml`), 'utf8'), type),
    async tagInstance(instanceId, tags) {
      await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
    },
    async runInstance(tags = {}) {
      const tagged = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
      const res = await ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-12c6146b',
          MinCount: 1,
          MaxCount: 1,
          ...(tagged.length > 0 ? { TagSpecifications: [{ ResourceType: 'instance', Tags: tagged }] } : {}),
        }),
      );
      const id = res.Instances?.[0]?.InstanceId;
      if (!id) throw new Error('moto RunInstances returned no instance');
      return id;
    },
    async reset() {
      const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
    },
    async stop() {
      ssm.destroy();
      ec2.destroy();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** AWS-RunShellScript as AWS publishes it (its parameters declare no allowedPattern); moto has no
 * AWS-owned documents, so tests that send it create it first. */
export const AWS_RUN_SHELL_SCRIPT = `schemaVersion: '2.2'
description: Run a shell script or specify the commands to run.
parameters:
  commands:
    type: StringList
    description: (Required) Specify a shell script or a command to run.
    displayType: textarea
  workingDirectory:
    type: String
    default: ''
    description: (Optional) The path to the working directory on your instance.
    maxChars: 4096
  executionTimeout:
    type: String
    default: '3600'
    description: (Optional) The time in seconds for a command to complete before it is considered to have failed.
    allowedPattern: '([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)'
mainSteps:
  - precondition:
      StringEquals: [platformType, Linux]
    action: aws:runShellScript
    name: runShellScript
    inputs:
      runCommand: '{{ commands }}'
      workingDirectory: '{{ workingDirectory }}'
      timeoutSeconds: '{{ executionTimeout }}'
`;
