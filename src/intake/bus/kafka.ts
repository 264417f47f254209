// Kafka intake: a consumer group member that commits a partition's offset only after the alerts of
// the messages before it reached their incidents (pipeline.ts). A crash re-delivers from the last
// committed offset, at most bus.maxInFlight messages per partition beyond it; incidents recognise
// those alerts by delivery id. Poison messages go to the dead-letter topic (idempotent producer,
// key = the original's topic/partition/offset, header medic-error) before the offset passes them.
//
// Back-pressure: a batch is worked through in chunks of maxInFlight and eachBatch does not return
// while Temporal is unreachable (heartbeating meanwhile), so the client fetches nothing more for
// the partition; fetch sizes are bounded by maxBytesPerPartition.
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaBusConfig } from './config.js';
import type { BusIntake } from './nats.js';
import { deliverBatch, type BusIntakeDeps } from './pipeline.js';

/** kafkajs's own log, through medic's (its INFO is chatty: only warnings and errors). */
export function kafkaClient(cfg: Pick<KafkaBusConfig, 'brokers' | 'clientId'>, log: Logger): Kafka {
  return new Kafka({
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log: entry }) => {
      const { message, ...rest } = entry;
      if (level <= logLevel.ERROR) log.error(rest, `kafka: ${message}`);
      else log.warn(rest, `kafka: ${message}`);
    },
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
}

/** An idempotent producer (no duplicates from its own retries). It retries without a count limit,
 * as idempotence requires, backing off to 5 s: while Kafka is down a send waits — the intake then
 * commits nothing, and the publish activity's own timeout bounds an event send. */
export function idempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
}

/** Creates the topics that are missing (an existing one is left as its operator configured it). */
export async function ensureTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic })) });
  } finally {
    await admin.disconnect();
  }
}

export async function startKafkaIntake(cfg: KafkaBusConfig, bus: { maxInFlight: number; maxMessageBytes: number }, deps: BusIntakeDeps): Promise<BusIntake> {
  const kafka = kafkaClient(cfg, deps.log);
  await ensureTopics(kafka, [cfg.topic, cfg.deadLetterTopic]);

  const producer = idempotentProducer(kafka);
  await producer.connect();
  const consumer: Consumer = kafka.consumer({
    groupId: cfg.groupId,
    sessionTimeout: cfg.sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(cfg.sessionTimeoutMs / 3)),
    maxBytesPerPartition: Math.max(bus.maxMessageBytes, 1_048_576),
    maxBytes: 4 * Math.max(bus.maxMessageBytes, 1_048_576),
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [cfg.topic], fromBeginning: true });
  let running = true;
  let failed: ((err: unknown) => void) | undefined;
  const done = new Promise<void>((resolve, reject) => {
    failed = reject;
    consumer.on(consumer.events.STOP, () => resolve());
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) reject(e.payload.error);
    });
  });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      const wanted = (): boolean => running && isRunning() && !isStale();
      for (let i = 0; i < batch.messages.length && wanted(); i += bus.maxInFlight) {
        const chunk = batch.messages.slice(i, i + bus.maxInFlight);
        const outcome = await deliverBatch(
          deps,
          chunk.map((m) => ({ id: `${batch.topic}/${batch.partition}/${m.offset}`, data: m.value ?? new Uint8Array() })),
          { stillWanted: wanted, onWait: heartbeat },
        );
        if (outcome === 'stopped') return;
        if (outcome.poison.length > 0) {
          await producer.send({
            topic: cfg.deadLetterTopic,
            acks: -1,
            messages: outcome.poison.map(({ message, error }) => ({
              key: message.id,
              value: Buffer.from(message.data),
              headers: { 'medic-error': error, 'medic-original-id': message.id },
            })),
          });
        }
        const last = chunk[chunk.length - 1]!.offset;
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) }]);
        resolveOffset(last);
        await heartbeat();
      }
    },
  });
  deps.log.info({ brokers: cfg.brokers, topic: cfg.topic, groupId: cfg.groupId, maxInFlight: bus.maxInFlight }, 'bus intake: consuming alerts from Kafka');
  return {
    done,
    async stop() {
      running = false;
      await consumer.disconnect().catch((err: unknown) => failed?.(err));
      await producer.disconnect().catch(() => undefined);
    },
  };
}
