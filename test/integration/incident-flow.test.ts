import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { ingestAlerts, type IngestDeps } from '../../src/intake/ingest.js';
import { startDemoService, type DemoService } from '../../src/dev/demo-service.js';
import { timelineQuery, type IncidentStatus } from '../../workflows/contracts.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { devServerEnv, medicWorker, uniqueQueue } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
let demo: DemoService;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueQueue('flow');
let playbooks: Playbook[] = [];

const deps = (): IngestDeps => ({ client: env.client, taskQueue, playbooks: () => playbooks, log: silentLog });

beforeAll(async () => {
  env = await devServerEnv();
  demo = await startDemoService();
  worker = await medicWorker(env, taskQueue);
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await demo?.close();
  await env?.teardown();
});

async function result(workflowId: string): Promise<IncidentStatus> {
  return env.client.workflow.getHandle(workflowId).result() as Promise<IncidentStatus>;
}

describe('incident flow on the Temporal dev server', () => {
  it('alert → action → verified → resolved', async () => {
    playbooks = [demoPlaybook(demo.url)];
    demo.state.fault = 'outage';
    const alert = firingAlert();
    const r = await ingestAlerts(deps(), [alert]);
    expect(r.incidents).toHaveLength(1);
    const workflowId = r.incidents[0]!.workflowId;
    expect(workflowId).toMatch(/^incident:demo-down:[0-9a-f]{12}$/);
    const final = await result(workflowId);
    expect(final.status).toBe('resolved');
    expect(final.outcome).toContain('healed by step 1/1');
    expect(demo.state.fault).toBe('none');
    expect(Object.values(demo.state.applied)).toEqual([1]);
    const timeline = await env.client.workflow.getHandle(workflowId).query(timelineQuery);
    const kinds = timeline.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['alert', 'lock', 'gate', 'action', 'verification', 'resolution']));
  });
});
