// Replay safety: every recorded incident and governor history (test/replay/histories, written by
// `npm run record:histories`) must replay against the current workflow code. A failure here means
// a change would break incidents already running in production: follow the versioning policy in
// docs/operations.md (from 1.0: patch → deprecatePatch → removal after one release).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import type { SavedHistory } from '../../scripts/record-histories.js';
import { historyFromPlainJSON } from '../support/history-json.js';
import { BUNDLE_PATH, ROOT } from '../support/paths.js';

const DIR = join(ROOT, 'test', 'replay', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const saved = new Map(files.map((f) => [f, JSON.parse(readFileSync(join(DIR, f), 'utf8')) as SavedHistory]));
const results = new Map<string, ReplayResult>();

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // installed already in this process
  }
  const code = readFileSync(BUNDLE_PATH, 'utf8'); // bundled from the current workflows/ by global setup
  // Keyed by file: the replay worker reports the workflow id we hand it, so make it the file name.
  const histories = [...saved].map(([file, h]) => ({ workflowId: file, history: historyFromPlainJSON(h.history) }));
  for await (const r of Worker.runReplayHistories({ workflowBundle: { code }, replayName: 'medic-replay-safety' }, histories)) {
    results.set(r.workflowId, r);
  }
}, 120_000);

describe('recorded histories replay against the current workflow code', () => {
  it('has histories of both workflow types to replay', () => {
    const types = new Set([...saved.values()].map((h) => h.workflowType));
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect([...types].sort()).toEqual(['governorWorkflow', 'incidentWorkflow']);
  });

  it.each(files)('%s', (file) => {
    const r = results.get(file);
    expect(r, `${file} was not replayed`).toBeDefined();
    const h = saved.get(file)!;
    const why = r?.error ? `${r.error.name}: ${r.error.message}` : undefined;
    expect(why, `${file} (${h.description}; recorded from ${h.recordedFrom}) no longer replays`).toBeUndefined();
  });
});
