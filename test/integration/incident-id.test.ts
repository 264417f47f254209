// The same alert group started, healed and re-fired within a second, through the real intake on a
// real Temporal dev server: the two incidents share the workflow id (reuse is allowed once the
// first closed), yet their incident ids and idempotency keys differ, and the second incident
// really acts at the target (the demo service counts applications per Idempotency-Key). Servers
// that issue UUIDv7 run ids give both runs the same first 8 hex digits; the id hashes the whole
// run id, so that cannot repeat it (second test).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { timelineQuery, type IncidentStatus, type TimelineEntry } from '../../workflows/contracts.js';
import { incidentIdSuffix } from '../../workflows/playbook-source.js';
import { demoPlaybook } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, type Medic } from '../support/medic.js';

let m: Medic;
beforeAll(async () => {
  m = await startMedic();
});
afterAll(() => m?.stop());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A UUIDv7's first 8 hex digits are the top 32 bits of its millisecond timestamp: the same for
 * every run started in one 65.536 s window. */
const WINDOW_MS = 65_536;
const keyOf = (timeline: TimelineEntry[]): string | undefined => {
  const started = timeline.find((e) => e.kind === 'action.started');
  return started?.kind === 'action.started' ? started.data.idempotencyKey : undefined;
};

it('start, end and restart of one alert group within a second: distinct incident ids and idempotency keys, and the second incident acts', async () => {
  const pb = demoPlaybook(m.demo.url, {
    name: 'refire-fast',
    match: { alertname: 'RefireFast' },
    steps: [
      {
        name: 'restart',
        action: 'http',
        params: { method: 'POST', url: `${m.demo.url}/remediate`, expectStatus: [200] },
        timeout: '5s',
        verification: { http: { url: `${m.demo.url}/healthz` }, window: '200ms', interval: '100ms', deadline: '10s' },
      },
    ],
  });
  m.playbooks.push(pb);
  const labels = { alertname: 'RefireFast', service: 'refire', severity: 'critical' };
  // Both runs start inside one UUIDv7 prefix window (where a prefix-based id repeated, on servers
  // that issue v7 run ids).
  const left = WINDOW_MS - (Date.now() % WINDOW_MS);
  if (left < 20_000) await sleep(left + 50);

  m.demo.state.fault = 'outage';
  const started = Date.now();
  const workflowId = await incidentIdFrom(await m.postAlerts('firing', labels));
  const firstRun = (await m.env.client.workflow.getHandle(workflowId).describe()).runId;
  const first = (await m.env.client.workflow.getHandle(workflowId, firstRun).result()) as IncidentStatus;
  const ended = Date.now();
  expect(first.status).toBe('resolved');
  const firstKey = keyOf(await m.env.client.workflow.getHandle(workflowId, firstRun).query(timelineQuery));

  m.demo.state.fault = 'outage'; // it breaks again at once
  const again = await m.postAlerts('firing', labels);
  const restartedAfterEnd = Date.now() - ended;
  expect(await incidentIdFrom(again)).toBe(workflowId); // same alert group, same workflow id
  const secondRun = (await m.env.client.workflow.getHandle(workflowId).describe()).runId;
  const second = (await m.env.client.workflow.getHandle(workflowId, secondRun).result()) as IncidentStatus;
  expect(second.status).toBe('resolved');
  const secondKey = keyOf(await m.env.client.workflow.getHandle(workflowId, secondRun).query(timelineQuery));

  console.log(
    [
      'incident id under a fast re-fire',
      `  first run ${firstRun} → incident ${first.incidentId}`,
      `  second run ${secondRun} → incident ${second.incidentId}`,
      `  run id prefixes ${firstRun.slice(0, 8) === secondRun.slice(0, 8) ? 'equal (UUIDv7)' : 'differ (this server issues UUIDv4 run ids)'}`,
      `  start → end ${ended - started} ms; end → restart ${restartedAfterEnd} ms`,
      `  keys: ${firstKey} / ${secondKey}; applied at the target: ${JSON.stringify(m.demo.state.applied)}`,
    ].join('\n'),
  );
  expect(restartedAfterEnd).toBeLessThan(1_000);
  expect(secondRun).not.toBe(firstRun);
  expect(first.incidentId).not.toBe(second.incidentId);
  // workflow id + a hash of the whole first run id (not a prefix of it)
  expect(first.incidentId).toBe(`${workflowId}:${incidentIdSuffix(firstRun)}`);
  expect(second.incidentId).toBe(`${workflowId}:${incidentIdSuffix(secondRun)}`);
  expect(firstKey).toBeDefined();
  expect(secondKey).toBeDefined();
  expect(firstKey).not.toBe(secondKey);
  expect(firstKey!.startsWith(`${first.incidentId}:`)).toBe(true);
  expect(secondKey!.startsWith(`${second.incidentId}:`)).toBe(true);
  // Both acted at the target, each once, under its own key.
  expect(m.demo.state.applied).toEqual({ [firstKey!]: 1, [secondKey!]: 1 });
}, 180_000);

it('two UUIDv7 run ids of the same minute (same first 8 hex digits) give different incident ids', () => {
  const a = '019aee3c-5a10-7c2e-9d3b-6f1e2a4b8c01';
  const b = '019aee3c-71f4-7a55-8e20-0b9d3c7e5f12';
  expect(a.slice(0, 8)).toBe(b.slice(0, 8));
  expect(incidentIdSuffix(a)).not.toBe(incidentIdSuffix(b));
});
