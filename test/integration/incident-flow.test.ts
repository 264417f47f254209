import { describe, expect, it } from 'vitest';
import { ingestAlerts, type IngestDeps } from '../../src/intake/ingest.js';
import { startDemoService } from '../../dev/demo-service.js';
import { timelineQuery, type IncidentStatus, type PublishInput } from '../../workflows/contracts.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { useDemoStack } from '../support/demo-stack.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { medicWorker } from '../support/temporal.js';
import { groupOf } from '../../workflows/contracts-timeline.js';

const dev = useDemoStack('flow');
const { taskQueue } = dev;
let playbooks: Playbook[] = [];

const deps = (): IngestDeps => ({ client: dev.env.client, taskQueue, playbooks: () => playbooks, log: silentLog });

async function result(workflowId: string): Promise<IncidentStatus> {
  return dev.env.client.workflow.getHandle(workflowId).result() as Promise<IncidentStatus>;
}

/** What a sink hands back is kept in workflow state and passed back on the next publish. */
const THREAD = { channel: 'C-1', rootTs: 'T-1', rootKey: '', seq: -1, approvals: [], takes: [] };

describe('incident flow on the Temporal dev server', () => {
  it('publishes every timeline entry to the sinks once, in order, and remembers their refs', async () => {
    const seen: { seq: number; message: string }[] = [];
    const refsSeen: PublishInput['refs'][] = [];
    let failOnce = true;
    const sink = {
      name: 'recorder',
      async publish(input: PublishInput) {
        refsSeen.push({ ...input.refs });
        if (failOnce) {
          failOnce = false; // the first delivery fails: the retry hands the same entries again
          throw new Error('sink briefly down');
        }
        for (const e of input.entries) if (!seen.some((x) => x.seq === e.seq)) seen.push({ seq: e.seq, message: e.message });
        return { slack: THREAD };
      },
    };
    const q = `${taskQueue}-sink`;
    const sinkWorker = await medicWorker(dev.env, q, {}, [sink]);
    await sinkWorker.runUntil(async () => {
      dev.demo.state.fault = 'outage';
      const r = await ingestAlerts({ ...deps(), taskQueue: q, playbooks: () => [demoPlaybook(dev.demo.url)] }, [firingAlert()]);
      const handle = dev.env.client.workflow.getHandle(r.incidents[0]!.workflowId);
      await handle.result();
      const timeline = await handle.query(timelineQuery);
      expect(seen.map((e) => e.seq)).toEqual(timeline.map((e) => e.seq));
      expect(seen.map((e) => e.message)).toEqual(timeline.map((e) => e.message));
      expect(refsSeen[0]).toEqual({});
      expect(refsSeen[refsSeen.length - 1]).toEqual({ slack: THREAD });
    });
  });


  it('resolves {{secret.NAME}} only in the activity: the secret never enters history or the timeline', async () => {
    const secret = 'demo-secret-token-5f0c9e1d';
    const guarded = await startDemoService(0, { token: secret });
    try {
      const secretWorker = await medicWorker(dev.env, `${taskQueue}-secret`, { DEMO_TOKEN: secret });
      await secretWorker.runUntil(async () => {
        guarded.state.fault = 'outage';
        const pb = demoPlaybook(guarded.url, {
          name: 'guarded',
          steps: [
            {
              name: 'restart with token',
              action: 'http',
              params: { method: 'POST', url: `${guarded.url}/remediate`, headers: { authorization: 'Bearer {{secret.DEMO_TOKEN}}' } },
              retries: 0,
            },
          ],
        });
        const r = await ingestAlerts({ ...deps(), taskQueue: `${taskQueue}-secret`, playbooks: () => [pb] }, [firingAlert()]);
        const handle = dev.env.client.workflow.getHandle(r.incidents[0]!.workflowId);
        const final = (await handle.result()) as IncidentStatus;
        expect(final.status).toBe('resolved');
        expect(Object.values(guarded.state.applied)).toEqual([1]);
        // payloads are base64 JSON: decode every one to search what history really holds
        const raw = JSON.stringify((await handle.fetchHistory()).events);
        const history = [...raw.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((x) => Buffer.from(x[1]!, 'base64').toString()).join('\n');
        expect(history).toContain('{{secret.DEMO_TOKEN}}');
        expect(history).not.toContain(secret);
        expect(JSON.stringify(await handle.query(timelineQuery))).not.toContain(secret);

        // a secret that is not configured fails the step at once (no retries) with a clear reason
        guarded.state.fault = 'outage';
        const pb2 = demoPlaybook(guarded.url, {
          name: 'unconfigured',
          holdAfterEscalation: '1s',
          steps: [
            {
              name: 'needs a secret',
              action: 'http',
              params: { method: 'POST', url: `${guarded.url}/remediate`, headers: { 'x-key': '{{secret.NOT_CONFIGURED}}' } },
              retries: 5,
            },
          ],
        });
        const r2 = await ingestAlerts({ ...deps(), taskQueue: `${taskQueue}-secret`, playbooks: () => [pb2] }, [firingAlert()]);
        const handle2 = dev.env.client.workflow.getHandle(r2.incidents[0]!.workflowId);
        expect(((await handle2.result()) as IncidentStatus).status).toBe('escalated');
        const text = (await handle2.query(timelineQuery)).map((e) => e.message).join('\n');
        expect(text).toContain('secret NOT_CONFIGURED is not configured (set MEDIC_SECRET_NOT_CONFIGURED)');
      });
    } finally {
      await guarded.close();
    }
  });


  it('alert → action → verified → resolved', async () => {
    playbooks = [demoPlaybook(dev.demo.url)];
    dev.demo.state.fault = 'outage';
    const alert = firingAlert();
    const r = await ingestAlerts(deps(), [alert]);
    expect(r.incidents).toHaveLength(1);
    const workflowId = r.incidents[0]!.workflowId;
    expect(workflowId).toMatch(/^incident:demo-down:[0-9a-f]{12}$/);
    const final = await result(workflowId);
    expect(final.status).toBe('resolved');
    expect(final.outcome).toContain('healed by step 1/1');
    expect(dev.demo.state.fault).toBe('none');
    const mine = Object.entries(dev.demo.state.applied).filter(([key]) => key.startsWith(final.incidentId));
    expect(mine).toEqual([[`${final.incidentId}:step-0:try-1`, 1]]);
    const timeline = await dev.env.client.workflow.getHandle(workflowId).query(timelineQuery);
    const kinds = timeline.map((e) => groupOf(e.kind));
    expect(kinds).toEqual(expect.arrayContaining(['alert', 'lock', 'gate', 'action', 'verification', 'resolution']));
  });
});
