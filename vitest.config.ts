import { enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// V8's code cache on disk for every Node process of a run: the forks, and the medic CLI, server and
// worker processes the tests spawn (they inherit the variable). Compiling the SDKs (Temporal, AWS,
// Kubernetes, Bolt) again in each process cost about a fifth of its start-up CPU.
process.env.NODE_COMPILE_CACHE ??= join(import.meta.dirname, '.cache', 'test', 'node-compile-cache');
enableCompileCache(process.env.NODE_COMPILE_CACHE);

// The test pyramid, one vitest project a layer; `vitest run` (npm test) runs them all, in one
// pool, and `npm run test:fast` only unit + workflow (`--project unit --project workflow`).
//   unit        pure code, fake clients (Slack listeners): no server, no bundle
//   workflow    the workflow code on the Java time-skipping server, activities as plain
//               functions or the demo service; replay of recorded histories
//   integration real parts (Temporal dev server, kube-apiserver, moto, Unleash, Bolt, stand-ins)
//   slow        kill -9, outages and restarts, floods and capacity-like loads, real browsers
const SLOW = [
  'test/reliability/**/*.test.ts',
  'test/integration/crash.test.ts',
  'test/integration/worker-shutdown.test.ts',
  'test/integration/scale-out.test.ts',
  // PostgreSQL, the Temporal schema and temporal-server's four services, then a SIGKILL and restart
  'test/integration/temporal-server-postgres.test.ts',
  'test/integration/*-browser.test.ts',
  'test/security/intake-flood.test.ts',
  // a 15-minute Slack outage, time-skipped, still takes ~90 s of real time (activity retries)
  'test/workflow/outbox.test.ts',
  // a 300-alert flood through continue-as-new: ~90 s of real time (about 3 s a batch of signals)
  'test/workflow/intake-bounds.test.ts',
];

const project = (name: string, include: string[], extra: TestProjectInlineConfiguration['test'] = {}): TestProjectInlineConfiguration => ({
  extends: true,
  test: { name, include, ...extra },
});

export default defineConfig({
  test: {
    // Temporal workers in threads exhaust wasm memory (vitest#2065): one process per file.
    // Three forks on two cores: most files spend most of their time waiting (activity timeouts
    // after a kill, verification windows, a time-skipped outage at ~10 % CPU), not computing.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 180_000,
    projects: [
      // Unit files share one worker thread and its module cache: the SDKs (Temporal, AWS,
      // Kubernetes, Bolt) load once instead of once per file (about 2.5 s CPU each). The threads
      // pool, not a single fork: vitest 3.2 runs a forks singleFork only after all the other
      // projects' forks have ended (that set test:fast's wall time), while each pool runs
      // alongside the others, so the unit files now run while the workflow files wait on timers.
      // In vitest 3.2 a project's `isolate: false` counts only with singleThread/singleFork (the
      // pools isolate per the root config). In a thread process.chdir is not available (a test
      // needing another working directory runs the CLI there, test/support/cli.ts). Workflow
      // files stay one fork each (one shared fork once left a time-skipping file's incident
      // hanging); slow ones too (kill -9, restarts, their own SDK runtime).
      project('unit', ['test/unit/**/*.test.ts'], { pool: 'threads', poolOptions: { threads: { singleThread: true, isolate: false } } }),
      // The workflow bundle is built once per run by the global setup (and reused while the
      // sources it is built from are unchanged).
      project('workflow', ['test/workflow/**/*.test.ts', 'test/replay/**/*.test.ts'], { exclude: SLOW, globalSetup: ['test/support/global-setup.ts'] }),
      project('integration', ['test/integration/**/*.test.ts', 'test/security/**/*.test.ts'], {
        exclude: SLOW,
        globalSetup: ['test/support/global-setup.ts'],
      }),
      project('slow', SLOW, { globalSetup: ['test/support/global-setup.ts'] }),
    ],
  },
});
