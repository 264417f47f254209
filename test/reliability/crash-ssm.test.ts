// Crash points for the SSM actions: Run Command on moto (SendCommand), and Automation
// (StartAutomationExecution) on the SSM Automation test endpoint, dev/ssm-automation.ts, which
// implements only the two Automation calls moto lacks and forwards the rest (GetDocument,
// SendCommand, ListCommands, …) to moto unchanged. The worker's AWS endpoint is a holding proxy in
// front of that endpoint. Applications are counted at the target: commands moto holds for the
// case's instance, executions the endpoint started for the case's cluster.
import { afterAll, beforeAll, it } from 'vitest';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { startSsmAutomationEndpoint, type SsmAutomationEndpoint } from '../../dev/ssm-automation.js';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
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

type SsmStep = Extract<PlaybookInput['steps'][number], { action: 'ssm-command' | 'ssm-automation' }>;
const ACTUATOR = { command: 'ssm run-command (moto)', automation: 'ssm automation (test endpoint)' };

/** The i-th case: one SSM step (15 s, longer than holding every case takes, crash-harness.ts;
 * retried 10 times) on `service`, and how its effect is seen and counted at the target. */
function ssmCase(kind: keyof typeof ACTUATOR, point: HoldPoint, i: number, service: string, step: Pick<SsmStep, 'name' | 'action' | 'params'>, how: Pick<CrashCase, 'effect' | 'touches' | 'activity' | 'applied'>): CrashCase {
  const alertname = `CrashSsm${kind[0]!.toUpperCase()}${kind.slice(1)}${i}`;
  const name = `crash-ssm-${kind}-${i}`;
  const playbook = crashPlaybook({ name, match: { alertname }, target: `aws/${name}`, steps: [{ ...step, timeout: '15s', retries: 10 } as SsmStep] });
  return { actuator: ACTUATOR[kind], point, playbook, proxy, alert: firingAlert({ alertname, service }), expected: 'resolved', ...how };
}

async function runCommandCase(point: HoldPoint, i: number): Promise<CrashCase> {
  const instance = `i-0c0a5e${String(i).padStart(11, '0')}`;
  await moto.tagInstance(instance, { Name: `crash-${i}` });
  const effect = (e: Exchange) => e.amzTarget === 'AmazonSSM.SendCommand' && e.body.includes(instance);
  const commandIds: string[] = []; // filled by applied(), which the harness reads first
  const params = { document: 'Medic-CleanDisk', instanceIds: [instance], parameters: { Mountpoint: '/var', JournalMaxSize: '200M' } };
  return ssmCase('command', point, i, instance, { name: 'clean-up-disk', action: 'ssm-command', params }, {
    effect,
    // The retry's requests about this case: the command sent again, or its polls by command id.
    touches: (e) => effect(e) || commandIds.some((id) => e.body.includes(id)),
    activity: 'ssmRunCommand',
    applied: async () => {
      const mine = ((await moto.ssm.send(new ListCommandsCommand({}))).Commands ?? []).filter((c) => c.InstanceIds?.includes(instance));
      commandIds.push(...mine.flatMap((c) => (c.CommandId ? [c.CommandId] : [])));
      return mine.length;
    },
  });
}

function automationCase(point: HoldPoint, i: number): CrashCase {
  const cluster = `crash-db-${i}`;
  const effect = (e: Exchange) => e.amzTarget === 'AmazonSSM.StartAutomationExecution' && e.body.includes(`"${cluster}"`);
  const mine = () => endpoint.executions.filter((x) => x.parameters.DBClusterIdentifier?.[0] === cluster);
  const params = { document: 'Medic-FailoverAuroraCluster', parameters: { DBClusterIdentifier: cluster, AutomationAssumeRole: ROLE } };
  return ssmCase('automation', point, i, cluster, { name: 'fail-over', action: 'ssm-automation', params }, {
    effect,
    // The retry's requests about this case: the start again, or polls of its execution.
    touches: (e) => effect(e) || mine().some((x) => e.body.includes(x.id)),
    activity: 'ssmAutomation',
    applied: async () => mine().length,
  });
}

it('ssm: SIGKILL at every crash point of Run Command (moto) and Automation (test endpoint), each applied exactly once', async () => {
  const cases: CrashCase[] = [];
  let i = 0;
  for (const point of HOLD_POINTS) cases.push(await runCommandCase(point, i++));
  for (const point of HOLD_POINTS) cases.push(automationCase(point, i++));
  await harness.run('ssm', cases);
}, 1_200_000);
