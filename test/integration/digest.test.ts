// The weekly digest end to end on real parts: a Temporal dev server, the medic worker with the
// digest activity, its Schedule (created, then updated in place by a second start), the incident
// store holding known incidents this week and last, a Prometheus with two weeks of backfilled
// request counters for the SLO, and the Slack stand-in. Triggering the schedule posts the digest;
// `medic report --weekly` prints the same text.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PrometheusStack } from '../../dev/prometheus-stack.js';
import { startSlackStandIn, type SlackStandIn } from '../../dev/slack/server.js';
import { digestScheduleId, ensureDigestSchedule } from '../../src/digest/schedule.js';
import { SloSchema } from '../../src/report/slo.js';
import { slackWebClient } from '../../src/slack/client.js';
import { openIncidentStore, type IncidentStore } from '../../src/store/store.js';
import type { IncidentStatus, PublishInput } from '../../workflows/contracts.js';
import { ROOT } from '../support/paths.js';
import { SLO_SERIES, startSloPrometheus } from '../support/slo-prometheus.js';
import { waitUntil } from '../support/slack.js';
import { devServerEnv, uniqueQueue, runTestWorker, type RunningWorker } from '../support/temporal.js';

const TOKEN = 'xoxb-medic-digest-token';
const CHANNELS = { incidents: 'C0INCIDENT', digest: 'C0DIGEST' };
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'medic-digest-'));
const storePath = join(dir, 'store.db');
const slo = { name: 'api-availability', objective: 99.9, good: SLO_SERIES.good, total: SLO_SERIES.total };

// The real parts this file starts once (beforeAll) and stops (afterAll).
let env: TestWorkflowEnvironment, slack: SlackStandIn, prom: PrometheusStack, store: IncidentStore;
let worker: RunningWorker | undefined;
const taskQueue = uniqueQueue('digest');

let n = 0;
/** One incident through the store's write API: opened `daysAgo`, ended `minutes` later. */
function incident(o: { daysAgo: number; outcome: 'auto' | 'noise' | 'escalated'; minutes: number; ttd?: number }): PublishInput[] {
  const id = `incident:digest:${String(++n).padStart(12, '0')}:abcdef01`;
  const startedAt = Date.now() - o.daysAgo * DAY;
  const endedAt = startedAt + o.minutes * 60_000;
  const base = { incidentId: id, workflowId: id.slice(0, -9), playbook: 'digest', service: 'api', severity: 'critical', alertname: 'ApiDown', target: `t${n}`, alertsReceived: 1, startedAt, acted: o.outcome !== 'noise', escalationSent: o.outcome === 'escalated' };
  const status = o.outcome === 'escalated' ? 'escalated' : 'resolved';
  const outcome = { auto: 'healed by step 1/1 (restart)', noise: 'alert resolved before medic acted', escalated: 'all 1 step(s) tried' }[o.outcome];
  const detection = o.ttd === undefined ? { source: 'generic' } : { source: 'detector', ttdSeconds: String(o.ttd) };
  return [
    { incident: { ...base, status: 'open' } as unknown as IncidentStatus, refs: {}, entries: [{ seq: 0, at: startedAt, kind: 'alert.opened', message: 'incident opened', data: { detection } }] },
    { incident: { ...base, status, outcome, endedAt } as unknown as IncidentStatus, refs: {}, entries: [{ seq: 1, at: endedAt, kind: 'resolution', message: `${status}: ${outcome}`, data: { status, outcome } }] },
  ];
}

beforeAll(async () => {
  [env, slack, prom] = await Promise.all([
    devServerEnv(),
    startSlackStandIn({ botToken: TOKEN, channels: [{ id: CHANNELS.incidents, name: 'incidents' }, { id: CHANNELS.digest, name: 'weekly' }] }),
    startSloPrometheus(),
  ]);
  store = await openIncidentStore({ path: storePath });
  // this week: 4 incidents — 2 healed (4 and 8 minutes), 1 noise, 1 escalated; the week before: 2 healed (10 and 20 minutes)
  for (const p of [
    ...incident({ daysAgo: 1, outcome: 'auto', minutes: 4, ttd: 20 }),
    ...incident({ daysAgo: 2, outcome: 'auto', minutes: 8, ttd: 40 }),
    ...incident({ daysAgo: 3, outcome: 'noise', minutes: 1 }),
    ...incident({ daysAgo: 4, outcome: 'escalated', minutes: 30 }),
    ...incident({ daysAgo: 8, outcome: 'auto', minutes: 10, ttd: 60 }),
    ...incident({ daysAgo: 9, outcome: 'auto', minutes: 20, ttd: 120 }),
  ])
    await store.record(p);
  worker = await runTestWorker(env, taskQueue, {
    digest: {
      store,
      web: slackWebClient({ botToken: TOKEN, apiUrl: slack.apiUrl, retries: 3 }),
      channel: CHANNELS.incidents,
      slos: [SloSchema.parse(slo)],
      prometheusUrl: prom.prometheusUrl,
    },
  });
});
afterAll(async () => {
  await env?.client.schedule.getHandle(digestScheduleId(taskQueue)).delete().catch(() => undefined);
  await worker?.stop();
  await store?.close();
  await slack?.close();
  await prom?.stop();
  await env?.teardown();
});

const codeBlock = (m: { blocks?: unknown[] }): string => {
  const text = (m.blocks as { type: string; text?: { text: string } }[]).find((b) => b.type === 'section')!.text!.text;
  return text.replace(/^```|```$/g, '');
};

describe('weekly digest', () => {
  let posted = '';
  it('is a Temporal Schedule created at start and updated in place by the next start', async () => {
    const first = await ensureDigestSchedule(env.client, taskQueue, { cron: '0 9 * * 1', timeZone: 'UTC', period: '7d' });
    expect(first.created).toBe(true);
    // a later start with another channel and time: the same schedule, brought up to date
    const again = await ensureDigestSchedule(env.client, taskQueue, { cron: '30 8 * * 1', timeZone: 'Europe/Berlin', period: '7d', channel: CHANNELS.digest });
    expect(again.created).toBe(false);
    const d = await again.handle.describe();
    expect(d.spec.timezone).toBe('Europe/Berlin');
    expect(d.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 8, end: 8, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }], dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY', step: 1 }] });
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'digestWorkflow', taskQueue, args: [{ periodMs: 7 * DAY, channel: CHANNELS.digest }] });
  });

  it('triggered, posts MTTR, TTD, auto-resolved %, false-positive rate and SLO compliance vs the previous week to the channel', async () => {
    await env.client.schedule.getHandle(digestScheduleId(taskQueue)).trigger();
    const message = await waitUntil('the digest in #weekly', () => slack.history(CHANNELS.digest)[0], 60_000);
    expect(slack.history(CHANNELS.incidents)).toEqual([]);
    expect(message.text).toMatch(/^medic digest \d{4}-\d\d-\d\d → \d{4}-\d\d-\d\d \(vs /);
    posted = codeBlock(message);
    const line = (name: string): string => posted.split('\n').find((l) => l.startsWith(name)) ?? `(no ${name})`;
    expect(line('incidents')).toMatch(/^incidents\s+4\s+2$/);
    // healed this week: 4m and 8m (the escalated one did not recover) → mean 6m; last week 10m, 20m → 15m
    expect(line('MTTR (mean)')).toMatch(/^MTTR \(mean\)\s+6m \(p50 6m, n=2\)\s+15m \(p50 15m, n=2\)$/);
    expect(line('TTD (mean)')).toMatch(/^TTD \(mean\)\s+30s \(p50 30s, n=2\)\s+1m 30s \(p50 1m 30s, n=2\)$/);
    expect(line('auto-resolved')).toMatch(/^auto-resolved\s+2 \(50\.0%\)\s+2 \(100\.0%\)$/);
    expect(line('false-positive rate')).toMatch(/^false-positive rate\s+1 \(25\.0%\)\s+0 \(0\.0%\)$/);
    expect(line('escalated')).toMatch(/^escalated\s+1 \(25\.0%\)\s+0 \(0\.0%\)$/);
    expect(posted).toContain('  api-availability (objective 99.9%): 99.800% (missed, 200% of budget) vs 99.950% (met, 50% of budget)  -0.150 pp');
    // one post per scheduled run
    await new Promise((r) => setTimeout(r, 1_000));
    expect(slack.history(CHANNELS.digest)).toHaveLength(1);
    console.log(`--- weekly digest as posted to Slack ---\n${posted}`);
  });

  it('medic report --weekly prints the same digest', async () => {
    const configFile = join(dir, 'medic.yaml');
    writeFileSync(configFile, stringify({ slos: [slo], digest: { period: '7d' } }));
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/medic.js'), 'report', '--weekly', '--store', storePath], {
      env: { ...process.env, MEDIC_CONFIG: configFile, MEDIC_PROMETHEUS_URL: prom.prometheusUrl, MEDIC_STORE_PATH: undefined },
    });
    expect(posted).not.toBe('');
    expect(stdout.trimEnd()).toBe(posted);
  });
});
