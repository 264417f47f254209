// The production engine: medic on the multi-service Temporal server (`temporal-server`, the version
// the CLI's dev server embeds) with PostgreSQL persistence and visibility (dev/temporal-server.ts),
// not the dev server. One incident end to end through the real intake, and the server killed with
// SIGKILL and started again while the incident waits for its approval: the same run goes on from
// what PostgreSQL holds, acts once and resolves. Slow project: PostgreSQL, the schema and the
// server's four services take ~10–20 s to come up on 2 cores.
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { startTemporalServer, TEMPORAL_DATABASES, type TemporalServer } from '../../dev/temporal-server.js';
import { SearchAttributes } from '../../workflows/contracts.js';
import { approvalStep, demoPlaybook, stopAll } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, TOKENS, type Medic } from '../support/medic.js';
import { ROOT } from '../support/paths.js';
import { existingServerEnv } from '../support/temporal.js';

let engine: TemporalServer | undefined;
let m: Medic | undefined;
beforeAll(async () => {
  engine = await startTemporalServer({ root: ROOT });
  const address = engine.address;
  m = await startMedic({
    temporal: () => existingServerEnv(address),
    playbooks: (url) => [demoPlaybook(url, { name: 'engine-down', match: { alertname: 'EngineDown' }, steps: [approvalStep(url, { approvers: ['bob'] })] })],
  });
});
afterAll(() => stopAll(m, engine));

/** Rows of the server's executions table for a workflow id, read from PostgreSQL itself. */
async function executionRows(workflowId: string): Promise<{ run_id: Buffer }[]> {
  const url = new URL(engine!.postgres.url);
  url.pathname = `/${TEMPORAL_DATABASES.default}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    return (await db.query<{ run_id: Buffer }>('SELECT run_id FROM executions WHERE workflow_id = $1', [workflowId])).rows;
  } finally {
    await db.end();
  }
}

it('heals an incident on temporal-server + PostgreSQL across a SIGKILL of the server mid-incident: same run, one action, resolved', async () => {
  const medic = m!;
  medic.demo.state.fault = 'outage';
  const res = await medic.postAlerts('firing', { alertname: 'EngineDown', service: 'engine-svc', severity: 'critical' });
  expect(res.status).toBe(202);
  const id = await incidentIdFrom(res);
  const waiting = await medic.waitFor(id, (s) => s.status === 'awaiting_approval', 60_000);
  expect(waiting.pendingApproval?.stepName).toBe('restart');
  const handle = medic.env.client.workflow.getHandle(id);
  const { runId } = await handle.describe();
  const timelineBefore = await medic.timeline(id);
  // The incident's state is in PostgreSQL, in the server's own schema.
  expect(await executionRows(id)).toHaveLength(1);

  const killedAt = Date.now();
  await engine!.restart('SIGKILL');
  const downMs = Date.now() - killedAt;

  // The same run, with the same history, still waiting: nothing was lost with the process.
  expect((await handle.describe()).runId).toBe(runId);
  const after = await medic.waitFor(id, (s) => s.status === 'awaiting_approval', 60_000);
  expect(after.incidentId).toBe(waiting.incidentId);
  expect((await medic.timeline(id)).slice(0, timelineBefore.length)).toEqual(timelineBefore);
  expect(medic.demo.state.applied).toEqual({});

  expect((await medic.api('POST', `/api/incidents/${encodeURIComponent(id)}/approve`, TOKENS.bob, {})).status).toBe(200);
  const done = await medic.waitFor(id, (s) => s.endedAt !== undefined, 90_000);
  expect(done.status, done.outcome).toBe('resolved');
  expect(medic.demo.state.fault).toBe('none');
  expect(Object.values(medic.demo.state.applied)).toEqual([1]); // acted once, after the restart

  // Visibility on PostgreSQL answers medic's search attributes.
  const listed: string[] = [];
  for await (const wf of medic.env.client.workflow.list({ query: `${SearchAttributes.service.name} = 'engine-svc'` })) listed.push(wf.workflowId);
  expect(listed).toContain(id);
  console.log(`temporal-server on PostgreSQL: restarted after SIGKILL in ${downMs} ms; incident ${done.incidentId} ${done.status} (${done.outcome})`);
}, 240_000);
