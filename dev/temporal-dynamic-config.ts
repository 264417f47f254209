// The Temporal dynamic config medic runs with, in one place: every dev server
// dev/temporal-dev-server.ts starts (the demo, the benches), the tests' dev servers, the production
// engine's dynamicconfig file (dev/temporal-server.ts) and the test in test/integration/compose.test.ts
// that holds docker-compose's and the Helm values' copies to it.
//
// Measured on loopback (shared/PROVISIONING.md "Latency facts"): start → first activity 87 ms by
// default, 7 ms with both. The cost: the transfer-queue reader of every history shard polls
// persistence up to 1,000 times a second instead of 20 while it has work (more reads on
// PostgreSQL in a busy cluster; it backs off when a shard is idle), and eager activities run on
// the worker that completed the workflow task (the TS SDK asks for it only when it has a free slot
// on the same task queue).
import { stringify } from 'yaml';

export const LATENCY_DYNAMIC_CONFIG = {
  'history.transferProcessorMaxPollRPS': 1000,
  'system.enableActivityEagerExecution': true,
} as const;

/** The same settings as a Temporal server dynamicconfig YAML document (key → [{ value, constraints }]). */
export function dynamicConfigYaml(values: Record<string, string | number | boolean> = LATENCY_DYNAMIC_CONFIG): string {
  return stringify(Object.fromEntries(Object.entries(values).map(([key, value]) => [key, [{ value, constraints: {} }]])));
}

/** The same settings as `temporal server start-dev` flags. */
export const dynamicConfigArgs = (values: Record<string, string | number | boolean> = LATENCY_DYNAMIC_CONFIG): string[] =>
  Object.entries(values).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);
