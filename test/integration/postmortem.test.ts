// `medic postmortem` on a real incident that ran through a Temporal dev server: an alert with a
// Prometheus graph link opens it, its step waits for approval (alice approves through the operator
// API), the restart does not heal the stubborn demo service, medic escalates, then the alert
// resolves. The Markdown from the API (CLI in a child process) and from the store directly must
// carry the structure and the facts of that run: timings, links, timeline, actions, approvals,
// escalation.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IDENTITY_KEY_TEXT } from '../support/identity.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { createStoreSink } from '../../activities/store.js';
import { ConfigSchema } from '../../src/config.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Alert } from '../../src/intake/schemas.js';
import { formatDuration } from '../../src/report/report.js';
import { buildServer } from '../../src/server/app.js';
import { openIncidentStore, type IncidentStore } from '../../src/store/store.js';
import { statusQuery, timelineQuery, type IncidentStatus, type TimelineEntry } from '../../workflows/contracts.js';
import { demoPlaybook, firingAlert, silentLog, stopAll } from '../support/fixtures.js';
import { ROOT } from '../support/paths.js';
import { devServerEnv, medicWorker, uniqueQueue, runWorker, type RunningWorker } from '../support/temporal.js';
import { groupOf } from '../../workflows/contracts-timeline.js';

const ALICE = { user: 'alice', token: 'alice-operator-token-0123456789' };
const GRAPH = 'http://prometheus.example:9090/graph?g0.expr=up%7Bjob%3D%22api%22%7D+%3D%3D+0&g0.tab=1';
const UI = 'http://temporal-ui.example:8233';
const dir = mkdtempSync(join(tmpdir(), 'medic-postmortem-'));
const storePath = join(dir, 'store.db');

let env: TestWorkflowEnvironment;
let demo: DemoService;
let store: IncidentStore;
let worker: RunningWorker | undefined;
let server: FastifyInstance;
let url = '';
const taskQueue = uniqueQueue('postmortem');

beforeAll(async () => {
  [env, demo] = await Promise.all([devServerEnv(), startDemoService()]);
  store = await openIncidentStore({ path: storePath });
  worker = runWorker(await medicWorker(env, taskQueue, {}, [createStoreSink(store)]));
  const config = ConfigSchema.parse({
    http: { port: 0 },
    temporal: { taskQueue, uiUrl: UI },
    intake: { alertmanagerToken: 'intake-token-0123456789' },
    identityKey: TEST_IDENTITY_KEY_TEXT,
    operators: [ALICE],
  });
  server = await buildServer({ config, client: env.client, log: silentLog, playbooks: () => [], store });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => stopAll(server, worker, store, demo, env));

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/medic.js'), 'postmortem', ...args], {
      cwd: dir,
      env: { ...process.env, MEDIC_URL: url, MEDIC_TOKEN: ALICE.token, MEDIC_CONFIG: undefined, MEDIC_STORE_PATH: undefined, MEDIC_TEMPORAL_UI_URL: UI },
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

const section = (md: string, title: string): string => {
  const start = md.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`no section ${title}`);
  const end = md.indexOf('\n## ', start + 4);
  return md.slice(start, end < 0 ? undefined : end);
};

describe('medic postmortem', () => {
  let status: IncidentStatus;
  let timeline: TimelineEntry[];
  let md = '';

  it('runs an incident: approval, a restart that does not heal, escalation, then the alert resolves', async () => {
    const playbook = demoPlaybook(demo.url, {
      name: 'pm-api',
      match: { alertname: 'PmApiDown' },
      holdAfterEscalation: '5m',
      steps: [
        {
          name: 'restart',
          action: 'http',
          params: { method: 'POST', url: `${demo.url}/remediate`, expectStatus: [200] },
          retries: 0,
          requiresApproval: true,
          approvers: [ALICE.user],
          verification: { http: { url: `${demo.url}/healthz` }, window: '1s', interval: '250ms', deadline: '1500ms' },
        },
      ],
    });
    const alert = (s: Alert['status']): Alert => {
      const a = firingAlert({ alertname: 'PmApiDown', service: 'api' }, s);
      return { ...a, annotations: { ...a.annotations, generatorURL: GRAPH }, startsAt: new Date(Date.now() - 30_000).toISOString(), receivedAt: Date.now() };
    };
    const deps = { client: env.client, taskQueue, playbooks: () => [playbook], log: silentLog };
    demo.state.fault = 'stubborn';
    const workflowId = (await ingestAlerts(deps, [alert('firing')])).incidents[0]!.workflowId;
    const handle = env.client.workflow.getHandle(workflowId);
    const until = async (ok: (s: IncidentStatus) => boolean): Promise<void> => {
      for (let i = 0; !ok(await handle.query(statusQuery)); i++) {
        if (i > 600) throw new Error(`timed out; status ${(await handle.query(statusQuery)).status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until((s) => s.status === 'awaiting_approval');
    const approved = await fetch(`${url}/api/incidents/${encodeURIComponent(workflowId)}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALICE.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'go ahead' }),
    });
    expect(approved.status).toBe(200);
    await until((s) => s.status === 'escalated');
    await ingestAlerts(deps, [alert('resolved')]);
    status = (await handle.result()) as IncidentStatus;
    demo.state.fault = 'none';
    timeline = await handle.query(timelineQuery);
    expect(status.status).toBe('resolved');
  });

  it('renders it as Markdown through the operator API, with the facts of the run', async () => {
    const r = await cli(status.incidentId);
    expect(r.err).toBe('');
    md = r.out;
    const headings = md.split('\n').filter((l) => l.startsWith('#'));
    expect(headings).toEqual([
      '# Postmortem: PmApiDown on api',
      '## Summary',
      '## Impact and timings',
      '## Links',
      '## Timeline (UTC)',
      '## Actions tried',
      '## Gates and locks',
      '## Approvals',
      '## Escalation',
      '## Follow-ups',
    ]);
    const summary = section(md, 'Summary');
    expect(summary).toContain(`- Incident: \`${status.incidentId}\``);
    expect(summary).toContain('playbook `pm-api`');
    expect(summary).toContain('(resolved after medic escalated to people)');
    expect(summary).toContain(`- Opened: ${new Date(status.startedAt).toISOString().replace('.000Z', 'Z')}`);

    const timings = section(md, 'Impact and timings');
    const firstAction = timeline.find((e) => groupOf(e.kind) === 'action')!;
    expect(timings).toContain('| time to detect (TTD) | 30s |');
    expect(timings).toContain(`| time to first action | ${formatDuration((firstAction.at - status.startedAt) / 1000)} |`);
    expect(timings).toContain(`| time to recover (MTTR) | ${formatDuration((status.endedAt! - status.startedAt) / 1000)} |`);

    const links = section(md, 'Links');
    expect(links).toContain(`- Graph: ${GRAPH}`);
    expect(links).toContain(`- Temporal: ${UI}/namespaces/default/workflows/${encodeURIComponent(status.workflowId)}`);

    // every timeline entry, in order, once
    const rows = section(md, 'Timeline (UTC)').split('\n').filter((l) => /^\| \d\d:\d\d:\d\d \|/.test(l));
    expect(rows).toHaveLength(timeline.length);
    timeline.forEach((e, k) => expect(rows[k]).toContain(`| ${groupOf(e.kind)} | ${e.message.replace(/\|/g, '\\|')} |`));

    expect(section(md, 'Actions tried')).toMatch(/^\| 1 \| 1 \| restart \| \d\d:\d\d:\d\d \| succeeded \| 200 \| no \| \d+(ms|s) \|$/m);
    const approvals = section(md, 'Approvals');
    expect(approvals).toMatch(/^- \d\d:\d\d:\d\d \(\+[^)]+\) — .*alice/m);
    expect(approvals.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(timeline.filter((e) => groupOf(e.kind) === 'approval').length);
    const escalation = section(md, 'Escalation');
    expect(escalation).not.toContain('_not escalated_');
    expect(escalation.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(timeline.filter((e) => groupOf(e.kind) === 'escalation').length);
    console.log(`--- medic postmortem ---\n${md}`);
  });

  it('--out writes the file; --store renders the same from the store; unknown ids are said', async () => {
    const out = join(dir, 'pm.md');
    const written = await cli(status.incidentId, '--out', out);
    expect(written.err.trim()).toBe(`postmortem written to ${out}`);
    expect(readFileSync(out, 'utf8')).toBe(md);
    expect((await cli(status.incidentId, '--store', storePath)).out).toBe(md);
    // the workflow id finds its latest incident
    expect((await cli(status.workflowId, '--store', storePath)).out).toBe(md);
    const missing = await cli('incident:nope:000000000000:00000000');
    expect([missing.code, missing.err.trim()]).toEqual([2, 'medic: 404: no incident incident:nope:000000000000:00000000 in the incident store']);
  });
});
