// The bus-agnostic half of the bus intake: a batch of messages in, their alerts delivered to their
// incidents (signalWithStart, src/intake/ingest.ts), the poison ones named. The adapters (nats.ts,
// kafka.ts) acknowledge a batch only after deliverBatch resolved, so a crash before that makes the
// bus deliver it again; each alert carries its message id, and the incident counts an alert of a
// message it has seen once (src/incident/state.ts DELIVERY_WINDOW).
//
// Back-pressure: while Temporal is unreachable deliverBatch retries (backing off to 5 s) and does
// not return, so the adapter takes nothing more from the bus: at most bus.maxInFlight messages
// are held, never an unbounded buffer.
import type { Logger } from 'pino';
import { ingestAlerts, type IngestDeps, type IngestResult } from '../ingest.js';
import type { IntakeLimits } from '../limits.js';
import type { Alert } from '../schemas.js';
import { deadLetterReason, decodeBusMessage } from './decode.js';

export interface BusMessage {
  /** Stable across redeliveries: NATS `stream:sequence`, Kafka `topic/partition/offset`. */
  id: string;
  data: Uint8Array;
}

export interface PoisonMessage {
  message: BusMessage;
  /** The validation error, for the dead-letter header. */
  error: string;
}

export interface BusIntakeDeps {
  ingest: Omit<IngestDeps, 'log'>;
  log: Logger;
  limits: IntakeLimits;
  maxMessageBytes: number;
  /** Retry backoff while Temporal fails (default 250 ms doubling to 5 s). */
  backoff?: { initialMs: number; maxMs: number };
  now?: () => number;
}

export interface BatchHooks {
  /** False once the consumer is stopping (or lost its partition): give up, acknowledge nothing. */
  stillWanted(): boolean;
  /** Called while waiting for Temporal: keep the held messages ours (NATS working(), Kafka heartbeat). */
  onWait(): Promise<void>;
}

export type BatchOutcome = { delivered: number; poison: PoisonMessage[]; result?: IngestResult } | 'stopped';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function deliverBatch(deps: BusIntakeDeps, batch: BusMessage[], hooks: BatchHooks): Promise<BatchOutcome> {
  const receivedAt = (deps.now ?? Date.now)();
  const alerts: Alert[] = [];
  const poison: PoisonMessage[] = [];
  for (const message of batch) {
    const d = decodeBusMessage(message.data, { limits: deps.limits, maxBytes: deps.maxMessageBytes, delivery: message.id, receivedAt });
    if (d.ok) alerts.push(...d.alerts);
    else {
      poison.push({ message, error: deadLetterReason(d) });
      deps.log.warn({ message: message.id, reason: d.reason, issues: d.issues }, 'bus message refused: dead-lettered');
    }
  }
  if (alerts.length === 0) return { delivered: 0, poison };
  const { initialMs, maxMs } = deps.backoff ?? { initialMs: 250, maxMs: 5_000 };
  for (let attempt = 1; ; attempt++) {
    if (!hooks.stillWanted()) return 'stopped';
    try {
      // A retry after a partial failure signals some incidents again: they recognise the
      // alerts by delivery id and count them once.
      const result = await ingestAlerts({ ...deps.ingest, log: deps.log }, alerts);
      if (attempt > 1) deps.log.info({ attempts: attempt }, 'Temporal reachable again: bus consumption resumed');
      return { delivered: alerts.length, poison, result };
    } catch (err) {
      const wait = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 10));
      deps.log.warn({ attempt, retryInMs: wait, messages: batch.length, err: (err as Error).message }, 'delivering bus alerts failed (Temporal unreachable?): consumption paused, retrying');
      await hooks.onWait();
      await sleep(wait);
    }
  }
}
