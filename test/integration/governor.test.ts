// The governor under load: it continues-as-new often (tiny history budget) while incidents
// hammer it with admissions concurrently; no update is lost and its state carries over.
import { expect, it } from 'vitest';
import { incidentsApi } from '../../src/incidents/api.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import { governorTaskQueue, governorWorkflowId, type IncidentStatus } from '../../workflows/contracts.js';
import { useDemoStack } from '../support/demo-stack.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';

const dev = useDemoStack('gov');
const { taskQueue } = dev;

it('keeps every admission and its state across many continue-as-new runs', async () => {
  const id = governorWorkflowId(taskQueue);
  const first = await dev.env.client.workflow.start('governorWorkflow', { workflowId: id, taskQueue: governorTaskQueue(taskQueue), args: [{ maxHistoryEvents: 40 }] });
  const api = incidentsApi(dev.env.client, taskQueue);
  await api.setDeployment({ target: 'frozen-target', until: Date.now() + 3_600_000, by: 'release-bot' });

  const playbook = demoPlaybook(dev.demo.url, { steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${dev.demo.url}/remediate` } }] });
  const deps = { client: dev.env.client, taskQueue, playbooks: () => [playbook], log: silentLog };
  const started = await Promise.all(Array.from({ length: 25 }, () => ingestAlerts(deps, [firingAlert()])));
  const results = await Promise.all(
    started.map((r) => dev.env.client.workflow.getHandle(r.incidents[0]!.workflowId).result() as Promise<IncidentStatus>),
  );
  expect(results.map((r) => r.status)).toEqual(Array(25).fill('resolved'));
  expect(Object.keys(dev.demo.state.applied)).toHaveLength(25);

  const now = await dev.env.client.workflow.getHandle(id).describe();
  expect(now.runId).not.toBe(first.firstExecutionRunId); // it did continue as new
  const state = await api.governorState();
  expect(state.deployments['frozen-target']?.by).toBe('release-bot');
  expect(state.locks).toEqual({}); // every incident released its target
  expect(state.inFlight).toEqual({});
  expect(state.starts).toHaveLength(25); // all 25 admissions counted once
}, 120_000);
