// The stack most dev-server integration tests share: a Temporal dev server, the real demo service
// and a medic worker on a fresh task queue, started before the file's tests and stopped after.
import { afterAll, beforeAll } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDemoService, type DemoService } from '../../src/dev/demo-service.js';
import type { MedicWorker } from '../../src/temporal/worker.js';
import { devServerEnv, medicWorker, uniqueQueue } from './temporal.js';

export interface DemoStack {
  readonly taskQueue: string;
  /** Available inside tests (after beforeAll). */
  readonly env: TestWorkflowEnvironment;
  readonly demo: DemoService;
}

/** Registers the beforeAll/afterAll hooks; call at the top level of a test file. */
export function useDemoStack(queueName: string): DemoStack {
  const taskQueue = uniqueQueue(queueName);
  let env: TestWorkflowEnvironment | undefined;
  let demo: DemoService | undefined;
  let worker: MedicWorker | undefined;
  let running: Promise<void> | undefined;

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

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useDemoStack: the stack is not started (used outside a test, or beforeAll failed)');
    return value;
  };
  return {
    taskQueue,
    get env() {
      return started(env);
    },
    get demo() {
      return started(demo);
    },
  };
}
