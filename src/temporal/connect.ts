// Connections to Temporal, and routing the SDK's own logs (workflow logs included, which carry
// workflowId/runId) into medic's pino logger.
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config.js';
import { readTemporalAuth, type TemporalConnectOptions } from './tls-config.js';
import { toMs } from '../playbooks/duration.js';

/** Address, TLS/mTLS and API key for every connection medic makes (src/temporal/tls-config.ts);
 * an unreadable certificate, key or API key file is a ConfigError naming the file. */
export function connectOptions(config: Pick<Config, 'temporal'>): TemporalConnectOptions {
  const r = readTemporalAuth(config.temporal);
  if (!r.ok) throw new ConfigError(r.problems);
  return r.options;
}

/** After a failed connect: one TLS handshake with the same settings, for the reason gRPC does
 * not report ("Failed to connect before the deadline"): an untrusted server certificate, or the
 * server refusing ours (TLS 1.3 sends that alert just after the handshake, hence the short wait). */
async function tlsHandshakeProblem(o: TemporalConnectOptions): Promise<string | undefined> {
  const t = o.tls === undefined && o.apiKey ? {} : o.tls;
  if (!t) return undefined;
  const at = o.address.lastIndexOf(':');
  const host = o.address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(o.address.slice(at + 1));
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      ALPNProtocols: ['h2'],
      ...(t.serverNameOverride ? { servername: t.serverNameOverride } : isIP(host) ? {} : { servername: host }),
      ...(t.serverRootCACertificate ? { ca: Buffer.from(t.serverRootCACertificate) } : {}),
      ...(t.clientCertPair ? { cert: Buffer.from(t.clientCertPair.crt), key: Buffer.from(t.clientCertPair.key) } : {}),
    });
    const done = (why?: string): void => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(3_000, () => done());
    socket.once('error', (e) => done(handshakeReason(e.message)));
    socket.once('secureConnect', () => {
      socket.resume(); // read, so a refusal alert arrives as an error
      // Some servers (Node's among them) refuse a client certificate by closing, without an alert.
      socket.once('end', () => done(`TLS: the server closed the connection right after the handshake${t.clientCertPair ? ' — it likely refused our client certificate' : ''}`));
      setTimeout(() => done(), 1_500);
    });
  });
}

/** OpenSSL's reason (e.g. "tlsv13 alert certificate required") and what it means for medic's config. */
function handshakeReason(message: string): string {
  const reason = /SSL routines:[^:]*:([^:]+):/.exec(message)?.[1] ?? message;
  const hint = /certificate required/.test(reason)
    ? 'the server requires a client certificate (temporal.tls.certFile, keyFile)'
    : /unknown ca|bad certificate|certificate unknown|unsupported certificate|access denied/.test(reason)
      ? 'the server refused our client certificate'
      : /self[- ]signed|unable to (verify|get)|certificate verify|altnames|Hostname\/IP/i.test(reason)
        ? "the server's certificate does not verify against temporal.tls.caFile / serverName"
        : '';
  return `TLS handshake failed: ${reason}${hint ? ` — ${hint}` : ''}`;
}

/** Names what failed and where, so a refused handshake (wrong CA, no client certificate, bad key)
 * or a refused API key is told apart from a server that is down. */
async function connecting<T>(o: TemporalConnectOptions, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    const how = o.tls === false || o.tls === undefined ? (o.apiKey ? 'TLS (API key)' : 'plaintext') : `TLS${o.tls.clientCertPair ? ' with a client certificate' : ''}`;
    // The SDK's own message is generic ("Failed to connect…"); the gRPC cause says why.
    const why: string[] = [];
    const handshake = await tlsHandshakeProblem(o).catch(() => undefined);
    if (handshake) why.push(handshake);
    for (let e: unknown = err; e instanceof Error && why.length < 4; e = e.cause) if (!why.includes(e.message)) why.push(e.message);
    throw new Error(`cannot connect to Temporal at ${o.address} (${how}): ${why.join(': ')}`, { cause: err });
  }
}

/** `interceptors`: the tracing client interceptor when tracing is on (src/tracing.ts). */
export async function connectClient(config: Config, interceptors: WorkflowClientInterceptor[] = []): Promise<Client> {
  const o = connectOptions(config);
  const connection = await connecting(o, () => Connection.connect({ ...o, ...(config.temporal.connectTimeout ? { connectTimeout: toMs(config.temporal.connectTimeout) } : {}) }));
  return new Client({ connection, namespace: config.temporal.namespace, interceptors: { workflow: interceptors } });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  const o = connectOptions(config);
  return connecting(o, () => NativeConnection.connect(o));
}

/** A Temporal SDK logger writing through pino (component "temporal"), e.g. for the runtime or
 * for bundleWorkflowCode, whose webpack report would otherwise go to the console. */
export function temporalLogger(log: Logger, level: LogLevel = 'INFO'): DefaultLogger {
  const sdk = log.child({ component: 'temporal' });
  return new DefaultLogger(level, (entry) => {
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
  });
}

let installed = false;
/** Installs the SDK runtime once, logging through pino at the given level. The runtime handles no
 * signals: the process stops its workers itself, the incident worker before the governor worker
 * (src/temporal/worker.ts), which the runtime's own handler, stopping all at once, would not. */
export function installRuntimeLogger(log: Logger, level: LogLevel = 'INFO'): void {
  if (installed) return;
  installed = true;
  // forward: Core's own (Rust) logs too, which would otherwise go to stderr as text
  Runtime.install({ logger: temporalLogger(log, level), telemetryOptions: { logging: { forward: {} } }, shutdownSignals: [] });
}

/** Waits for a Temporal frontend to answer, for start-up ordering (dev server, compose);
 * `target` is an address (plaintext) or connectOptions(config). */
export async function waitForTemporal(target: string | TemporalConnectOptions, timeoutMs = 60_000): Promise<void> {
  const o = typeof target === 'string' ? { address: target } : target;
  const address = o.address;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ ...o, connectTimeout: 2_000 });
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
