// npm run record:histories [-- --only name,name] — runs real incident scenarios (scripts/
// history-scenarios.ts) on a Temporal dev server with the current workflow code, and saves each
// run's history to test/replay/histories/<name>.json for the replay-safety test.
//
// When to re-record is the versioning policy in docs/operations.md: before 1.0, with every change
// of behaviour; from 1.0, only new scenarios (a failing replay is a running incident the change
// breaks: guard it with patched()).
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startPagerDutyStandIn } from '../dev/pagerduty/stand-in.js';
import { startTemporalDevServer } from '../dev/temporal-dev-server.js';
import { createMedicWorker } from '../src/temporal/worker.js';
import { GOVERNOR_VERSION, governorTaskQueue, governorWorkflowId } from '../workflows/contracts.js';
import { historyToPlainJSON } from '../test/support/history-json.js';
import { PD_SECRET, SCENARIO_PLAYBOOKS, SCENARIOS, type Recorded, type ScenarioContext } from './history-scenarios.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HISTORIES_DIR = join(ROOT, 'test', 'replay', 'histories');
/** Small, so the governor continues as new while the scenarios run (both runs are kept). */
const GOVERNOR_MAX_EVENTS = 150;

/** What a saved file holds: the history (test/support/history-json.ts) and where it came from. */
export interface SavedHistory {
  scenario: string;
  description: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  governorVersion?: number;
  recordedAt: string;
  recordedFrom: string;
  history: unknown;
}

function argList(name: string): string[] | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? '').split(',').filter(Boolean) : undefined;
}

function gitDescription(): string {
  // Set when recording from an exported commit (no .git there): see the README's Operations.
  if (process.env.MEDIC_RECORDED_FROM) return process.env.MEDIC_RECORDED_FROM;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'workflows'], { cwd: ROOT }).toString().trim();
    return dirty ? `${head} + uncommitted workflows/ changes` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const only = argList('--only');
  const known = [...SCENARIOS.map((s) => s.name), 'governor'];
  const unknown = (only ?? []).filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const wanted = (name: string): boolean => !only || only.includes(name);

  Runtime.install({ logger: new DefaultLogger('ERROR') });
  console.log('record-histories: starting a Temporal dev server (in memory)…');
  const temporal = await startTemporalDevServer({ root: ROOT, ui: false });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const pd = await startPagerDutyStandIn();
  const agent = new Agent({ ca: pd.certs.ca });
  const taskQueue = 'replay-recording';
  const identityKey = randomBytes(32);
  const ctx: ScenarioContext = { client, taskQueue, identityKey, demos: [] };
  const recorded: (Recorded & { scenario: string })[] = [];
  try {
    // The governor, started here so it continues as new during the recording.
    const gov = await client.workflow.start('governorWorkflow', {
      workflowId: governorWorkflowId(taskQueue),
      taskQueue: governorTaskQueue(taskQueue),
      args: [{ maxHistoryEvents: GOVERNOR_MAX_EVENTS }],
    });
    const worker = await createMedicWorker({
      connection: nativeConnection,
      client,
      taskQueue,
      secrets: { [PD_SECRET]: 'R0UT1NGKEYreplay0123456789abcdef' },
      identityKey,
      pagerduty: { server: pd.server, agent, throttlePauseMs: 20 },
      playbooks: () => SCENARIO_PLAYBOOKS,
    });
    const runOne = async (s: (typeof SCENARIOS)[number]): Promise<void> => {
      const t0 = Date.now();
      const files = await s.run(ctx);
      recorded.push(...files.map((f) => ({ ...f, scenario: s.name })));
      console.log(`  ${s.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    };
    await worker.runUntil(async () => {
      // Governor histories need the incidents too: with --only governor every scenario runs.
      const chosen = SCENARIOS.filter((s) => wanted(s.name) || wanted('governor'));
      await Promise.all(chosen.filter((s) => !s.exclusive).map(runOne));
      for (const s of chosen.filter((x) => x.exclusive)) await runOne(s);
    });
    if (wanted('governor')) {
      const latest = await client.workflow.getHandle(gov.workflowId).describe();
      if (latest.runId === gov.firstExecutionRunId) throw new Error(`the governor did not continue as new within ${GOVERNOR_MAX_EVENTS} events`);
      recorded.push(
        { scenario: 'governor', file: 'governor-first-run', workflowId: gov.workflowId, runId: gov.firstExecutionRunId, description: 'the governor serving every scenario, until it continues as new' },
        { scenario: 'governor', file: 'governor-continued-run', workflowId: gov.workflowId, runId: latest.runId, description: 'the governor run carrying the state on (still running: a partial history)' },
      );
    }

    await mkdir(HISTORIES_DIR, { recursive: true });
    const from = gitDescription();
    for (const r of recorded.filter((x) => wanted(x.scenario))) {
      const handle = client.workflow.getHandle(r.workflowId, r.runId);
      const d = await handle.describe();
      const history = await handle.fetchHistory();
      const saved: SavedHistory = {
        scenario: r.scenario,
        description: r.description,
        workflowId: r.workflowId,
        runId: d.runId,
        workflowType: d.type,
        ...(d.type === 'governorWorkflow' ? { governorVersion: GOVERNOR_VERSION } : {}),
        recordedAt: new Date().toISOString(),
        recordedFrom: from,
        history: historyToPlainJSON(history),
      };
      const path = join(HISTORIES_DIR, `${r.file}.json`);
      await writeFile(path, `${JSON.stringify(saved, null, 1)}\n`);
      console.log(`  saved ${r.file}.json (${history.events?.length ?? 0} events, ${d.status.name})`);
    }
  } finally {
    await Promise.allSettled(ctx.demos.map((d) => d.close()));
    agent.destroy();
    await pd.close();
    await nativeConnection.close();
    await connection.close();
    await temporal.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
