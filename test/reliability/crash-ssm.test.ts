// Crash points for the SSM actions: Run Command on moto (SendCommand), and Automation
// (StartAutomationExecution) on the SSM Automation test endpoint, dev/ssm-automation.ts, which
// implements only the two Automation calls moto lacks and forwards the rest (GetDocument,
// SendCommand, ListCommands, …) to moto unchanged. The worker's AWS endpoint is a holding proxy in
// front of that endpoint. Applications are counted at the target: commands moto holds for the
// case's instance, executions the endpoint started for the case's cluster.
import { afterAll, beforeAll, it } from 'vitest';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { startSsmAutomationEndpoint, type SsmAutomationEndpoint } from '../../dev/ssm-automation.js';
import type { Playbook, PlaybookInput } from '../../src/playbooks/schema.js';
import { firingAlert, stopAll } from '../support/fixtures.js';
import { HOLD_POINTS, startHoldingProxy, type Exchange, type HoldingProxy, type HoldPoint } from '../support/crash-proxy.js';
import { startMoto, type Moto } from '../support/moto.js';
import { crashPlaybook, startCrashHarness, type CrashCase, type CrashHarness } from './crash-harness.js';

let moto: Moto;
let endpoint: SsmAutomationEndpoint;
let proxy: HoldingProxy;
let harness: CrashHarness;

beforeAll(async () => {
  moto = await startMoto();
  await moto.createShippedDocument('Medic-CleanDisk');
  await moto.createShippedDocument('Medic-FailoverAuroraCluster', 'Automation');
  endpoint = await startSsmAutomationEndpoint({ moto: moto.url, runMs: 1_000 });
  proxy = await startHoldingProxy({ target: endpoint.url });
  harness = await startCrashHarness(() => ({ MEDIC_AWS_ENDPOINT: proxy.url }));
}, 300_000);
afterAll(() => stopAll(harness, proxy, endpoint, moto));

const ROLE = 'arn:aws:iam::123456789012:role/MedicAutomationRole';

/** One SSM step: 15 s, longer than holding every case takes (crash-harness.ts), retried 10 times. */
function playbook(name: string, alertname: string, step: Pick<Extract<PlaybookInput['steps'][number], { action: 'ssm-command' | 'ssm-automation' }>, 'name' | 'action' | 'params'>): Playbook {
  return crashPlaybook({ name, match: { alertname }, target: `aws/${name}`, steps: [{ ...step, timeout: '15s', retries: 10 } as PlaybookInput['steps'][number]] });
}

async function runCommandCase(point: HoldPoint, i: number): Promise<CrashCase> {
  const instance = `i-0c0a5e${String(i).padStart(11, '0')}`;
  await moto.tagInstance(instance, { Name: `crash-${i}` });
  const alertname = `CrashSsmCommand${i}`;
  const effect = (e: Exchange) => e.amzTarget === 'AmazonSSM.SendCommand' && e.body.includes(instance);
  const commandIds: string[] = []; // filled by applied(), which the harness reads first
  return {
    actuator: 'ssm run-command (moto)',
    point,
    playbook: playbook(`crash-ssm-command-${i}`, alertname, {
      name: 'clean-up-disk',
      action: 'ssm-command',
      params: { document: 'Medic-CleanDisk', instanceIds: [instance], parameters: { Mountpoint: '/var', JournalMaxSize: '200M' } },
    }),
    proxy,
    effect,
    // The retry's requests about this case: the command sent again, or its polls by command id.
    touches: (e) => effect(e) || commandIds.some((id) => e.body.includes(id)),
    activity: 'ssmRunCommand',
    alert: firingAlert({ alertname, service: instance }),
    applied: async () => {
      const mine = ((await moto.ssm.send(new ListCommandsCommand({}))).Commands ?? []).filter((c) => c.InstanceIds?.includes(instance));
      commandIds.push(...mine.flatMap((c) => (c.CommandId ? [c.CommandId] : [])));
      return mine.length;
    },
    expected: 'resolved',
  };
}

function automationCase(point: HoldPoint, i: number): CrashCase {
  const cluster = `crash-db-${i}`;
  const alertname = `CrashSsmAutomation${i}`;
  const effect = (e: Exchange) => e.amzTarget === 'AmazonSSM.StartAutomationExecution' && e.body.includes(`"${cluster}"`);
  const mine = () => endpoint.executions.filter((x) => x.parameters.DBClusterIdentifier?.[0] === cluster);
  return {
    actuator: 'ssm automation (test endpoint)',
    point,
    playbook: playbook(`crash-ssm-automation-${i}`, alertname, {
      name: 'fail-over',
      action: 'ssm-automation',
      params: { document: 'Medic-FailoverAuroraCluster', parameters: { DBClusterIdentifier: cluster, AutomationAssumeRole: ROLE } },
    }),
    proxy,
    effect,
    // The retry's requests about this case: the start again, or polls of its execution.
    touches: (e) => effect(e) || mine().some((x) => e.body.includes(x.id)),
    activity: 'ssmAutomation',
    alert: firingAlert({ alertname, service: cluster }),
    applied: async () => mine().length,
    expected: 'resolved',
  };
}

it('ssm: SIGKILL at every crash point of Run Command (moto) and Automation (test endpoint), each applied exactly once', async () => {
  const cases: CrashCase[] = [];
  let i = 0;
  for (const point of HOLD_POINTS) cases.push(await runCommandCase(point, i++));
  for (const point of HOLD_POINTS) cases.push(automationCase(point, i++));
  await harness.run('ssm', cases);
}, 1_200_000);
