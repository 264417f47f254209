// NATS JetStream intake: a durable pull consumer (explicit ack, at most bus.maxInFlight messages
// unacknowledged: JetStream itself stops delivering past max_ack_pending, so a consumer that
// cannot reach Temporal holds a bounded number). Messages are gathered into batches as they
// arrive, delivered (pipeline.ts), then acknowledged; poison ones are first republished to the
// dead-letter subject with the validation error (Nats-Msg-Id = the original's id, so JetStream
// drops a second copy republished after a crash).
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { NatsBusConfig } from './config.js';
import { deliverBatch, type BusIntakeDeps } from './pipeline.js';

export const deadLetterStream = (c: Pick<NatsBusConfig, 'stream'>): string => `${c.stream}_DEAD_LETTER`;
export const eventsStream = (c: Pick<NatsBusConfig, 'stream'>): string => `${c.stream}_EVENTS`;

/** Creates a stream when missing (an existing one is left as its operator configured it). */
export async function ensureStream(jsm: JetStreamManager, name: string, subjects: string[]): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch {
    await jsm.streams.add({ name, subjects, duplicate_window: nanos(120_000) });
  }
}

export interface BusIntake {
  /** Stops taking messages, finishes (or abandons, unacknowledged) the batch in hand. */
  stop(): Promise<void>;
  /** Settles when the consumer loop ended (rejects if it failed). */
  done: Promise<void>;
}

export async function startNatsIntake(cfg: NatsBusConfig, bus: { maxInFlight: number }, deps: BusIntakeDeps): Promise<BusIntake> {
  const nc: NatsConnection = await connect({ servers: cfg.servers, name: 'medic-bus-intake', maxReconnectAttempts: -1 });
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, cfg.stream, [cfg.subject, `${cfg.subject}.>`]);
  await ensureStream(jsm, deadLetterStream(cfg), [cfg.deadLetterSubject]);
  const consumerConfig = {
    durable_name: cfg.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: bus.maxInFlight,
    ack_wait: nanos(cfg.ackWaitSeconds * 1_000),
  };
  try {
    await jsm.consumers.info(cfg.stream, cfg.consumer);
    await jsm.consumers.update(cfg.stream, cfg.consumer, { max_ack_pending: bus.maxInFlight, ack_wait: consumerConfig.ack_wait });
  } catch {
    await jsm.consumers.add(cfg.stream, consumerConfig);
  }
  const js = jetstream(nc);
  const consumer = await js.consumers.get(cfg.stream, cfg.consumer);
  const messages = await consumer.consume({ max_messages: bus.maxInFlight });
  deps.log.info({ servers: cfg.servers, stream: cfg.stream, consumer: cfg.consumer, maxInFlight: bus.maxInFlight }, 'bus intake: consuming alerts from NATS JetStream');

  let running = true;
  // Messages handed to us and not yet in a batch: bounded by max_ack_pending.
  const queue: JsMsg[] = [];
  let wake: (() => void) | undefined;
  const feeding = (async () => {
    for await (const m of messages) {
      queue.push(m);
      wake?.();
    }
  })();

  const done = (async () => {
    while (running) {
      if (queue.length === 0) {
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        continue;
      }
      const batch = queue.splice(0, bus.maxInFlight);
      const outcome = await deliverBatch(
        deps,
        batch.map((m) => ({ id: `${m.info.stream}:${m.seq}`, data: m.data })),
        {
          stillWanted: () => running,
          // Keep the held messages (and those JetStream has already handed over) from redelivery.
          onWait: async () => {
            for (const m of [...batch, ...queue]) m.working();
          },
        },
      );
      if (outcome === 'stopped') return;
      await Promise.all(outcome.poison.map(({ message, error }) => deadLetter(js, cfg, message.id, message.data, error)));
      await Promise.all(batch.map((m) => m.ackAck()));
    }
  })();

  return {
    done,
    async stop() {
      running = false;
      wake?.();
      messages.stop();
      await done.catch(() => undefined);
      await feeding.catch(() => undefined);
      await nc.drain().catch(() => undefined);
    },
  };
}

async function deadLetter(js: JetStreamClient, cfg: NatsBusConfig, id: string, data: Uint8Array, error: string): Promise<void> {
  const h = headers();
  h.set('Medic-Error', error);
  h.set('Medic-Original-Id', id);
  await js.publish(cfg.deadLetterSubject, data, { msgID: `dead-letter:${id}`, headers: h });
}
