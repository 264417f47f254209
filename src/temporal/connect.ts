// Connections to Temporal, and routing the SDK's own logs (workflow logs included, which carry
// workflowId/runId) into medic's pino logger.
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from '../config.js';

/** `interceptors`: the tracing client interceptor when tracing is on (src/tracing.ts). */
export async function connectClient(config: Config, interceptors: WorkflowClientInterceptor[] = []): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace, interceptors: { workflow: interceptors } });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.temporal.address });
}

let installed = false;
/** Installs the SDK runtime once, logging through pino at the given level. The runtime handles no
 * signals: the process stops its workers itself, the incident worker before the governor worker
 * (src/temporal/worker.ts), which the runtime's own handler, stopping all at once, would not. */
export function installRuntimeLogger(log: Logger, level: LogLevel = 'INFO'): void {
  if (installed) return;
  installed = true;
  const sdk = log.child({ component: 'temporal' });
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const meta = entry.meta ?? {};
      const line = entry.message;
      switch (entry.level) {
        case 'ERROR':
          sdk.error(meta, line);
          break;
        case 'WARN':
          sdk.warn(meta, line);
          break;
        case 'DEBUG':
        case 'TRACE':
          sdk.debug(meta, line);
          break;
        default:
          sdk.info(meta, line);
      }
    }),
    shutdownSignals: [],
  });
}

/** Waits for a Temporal frontend to answer, for start-up ordering (dev server, compose). */
export async function waitForTemporal(address: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.healthService.check({});
      await connection.close();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs}ms: ${(lastError as Error)?.message}`);
}
