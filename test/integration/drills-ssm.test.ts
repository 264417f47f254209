// The SSM fill-disk drill fault against moto (server mode, the real SDK client): the drill sends
// fallocate through AWS-RunShellScript to a drillable instance and removes the file on revert; an
// instance not marked drillable is refused before anything is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client, Connection } from '@temporalio/client';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { createDrillActivities } from '../../activities/drills.js';
import { DrillScenarioSchema, DrillTargetSchema } from '../../src/drills/schema.js';
import { AWS_RUN_SHELL_SCRIPT, startMoto, type Moto } from '../support/moto.js';

let moto: Moto;
let acts: ReturnType<typeof createDrillActivities>;
beforeAll(async () => {
  moto = await startMoto();
  // The ssm activity reads the document before sending; moto has no AWS-owned documents.
  await moto.createDocument('AWS-RunShellScript', AWS_RUN_SHELL_SCRIPT);
  acts = createDrillActivities({
    // Only the Temporal-facing watchers use the client; inject/revert never call it.
    client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
    taskQueue: 'unused',
    targets: {
      'web-1': DrillTargetSchema.parse({ kind: 'ssm-instance', instanceId: 'i-0123456789abcdef0', drillable: true }),
      'db-1': DrillTargetSchema.parse({ kind: 'ssm-instance', instanceId: 'i-0fedcba9876543210' }),
    },
    fetch,
    secret: () => undefined,
    ssm: moto.ssm,
    sinks: [],
  });
});
afterAll(() => moto?.stop());

const scenario = (target: string) =>
  DrillScenarioSchema.parse({ name: 'disk-fill', target, fault: { kind: 'ssm-fill-disk', sizeMb: 64 }, expect: { playbook: 'disk-full-ssm' } });
const inActivity = <R>(fn: () => Promise<R>): Promise<R> => new MockActivityEnvironment({}).run(fn) as Promise<R>;
const sent = async () => ((await moto.ssm.send(new ListCommandsCommand({}))).Commands ?? []).map((c) => ({ instances: c.InstanceIds, parameters: c.Parameters, document: c.DocumentName }));

describe('ssm-fill-disk drill fault (moto)', () => {
  it('fills the disk of a drillable instance through Run Command and cleans up on revert', async () => {
    const r = await inActivity(() => acts.drillInject({ scenario: scenario('web-1'), key: 'drill:disk-fill:1' }));
    expect(r.summary).toMatch(/^SSM AWS-RunShellScript on i-0123456789abcdef0 → Success \(command [0-9a-f-]{36}\)/);
    const reverted = await inActivity(() => acts.drillRevert({ scenario: scenario('web-1'), key: 'drill:disk-fill:1' }));
    expect(reverted).toMatch(/→ Success/);
    expect(await sent()).toEqual([
      { instances: ['i-0123456789abcdef0'], parameters: { commands: ['fallocate -l 64M /var/tmp/medic-drill.fill'] }, document: 'AWS-RunShellScript' },
      { instances: ['i-0123456789abcdef0'], parameters: { commands: ['rm -f /var/tmp/medic-drill.fill'] }, document: 'AWS-RunShellScript' },
    ]);
  });

  it('refuses an instance not marked drillable; nothing is sent', async () => {
    const before = (await sent()).length;
    const err = await inActivity(() => acts.drillInject({ scenario: scenario('db-1'), key: 'drill:disk-fill:2' })).catch((e: Error) => e);
    expect((err as { type?: string }).type).toBe('DrillRefused');
    expect((err as Error).message).toContain('target "db-1" is not marked drillable');
    expect((await sent()).length).toBe(before);
  });
});
