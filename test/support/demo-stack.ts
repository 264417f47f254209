// The stack most dev-server integration tests share: a Temporal dev server and the real demo
// service (plus, with useDemoStack, a medic worker on a fresh task queue), started before the
// file's tests and stopped after them.
import { afterAll, beforeAll } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import type { MedicWorker } from '../../src/temporal/worker.js';
import { devServerEnv, medicWorker, uniqueQueue } from './temporal.js';

export interface DevServerAndDemo {
  /** Available inside tests (after beforeAll). */
  readonly env: TestWorkflowEnvironment;
  readonly demo: DemoService;
}

export interface DemoStack extends DevServerAndDemo {
  readonly taskQueue: string;
}

const started = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error('demo stack: not started (used outside a test, or beforeAll failed)');
  return value;
};

/** Registers the beforeAll/afterAll hooks; call at the top level of a test file (or a describe). */
export function useDevServerAndDemo(): DevServerAndDemo {
  let env: TestWorkflowEnvironment | undefined;
  let demo: DemoService | undefined;
  beforeAll(async () => {
    env = await devServerEnv();
    demo = await startDemoService();
  });
  afterAll(async () => {
    await demo?.close();
    await env?.teardown();
  });
  return {
    get env() {
      return started(env);
    },
    get demo() {
      return started(demo);
    },
  };
}

/** useDevServerAndDemo plus a medic worker on a fresh task queue (stopped first: hooks unwind as a stack). */
export function useDemoStack(queueName: string): DemoStack {
  const base = useDevServerAndDemo();
  const taskQueue = uniqueQueue(queueName);
  let worker: MedicWorker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    worker = await medicWorker(base.env, taskQueue);
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
  });
  return {
    taskQueue,
    get env() {
      return base.env;
    },
    get demo() {
      return base.demo;
    },
  };
}

/** The demo service's restart step, verified on /healthz within 1.5 s; `extra` overrides fields. */
export const demoRestartStep = (url: string, extra: Record<string, unknown> = {}) => ({
  name: 'restart',
  action: 'http' as const,
  params: { method: 'POST' as const, url: `${url}/remediate`, expectStatus: [200] },
  retries: 0,
  verification: { http: { url: `${url}/healthz` }, window: '1s', interval: '250ms', deadline: '1500ms' },
  ...extra,
});
