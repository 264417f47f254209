// The worker's lifecycle-event sinks as configured (bus.nats.eventsSubject, bus.kafka.eventsTopic),
// each client built once at start (docs/architecture.md: activities are factories over clients).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { createKafkaEventSink } from '../../activities/kafka-events.js';
import { createNatsEventSink } from '../../activities/nats-events.js';
import type { BusConfig } from '../intake/bus/config.js';
import { ensureTopics, idempotentProducer, kafkaClient } from '../intake/bus/kafka.js';
import { ensureStream, eventsStream } from '../intake/bus/nats.js';
import type { IncidentSink } from '../sinks/sink.js';

export async function lifecycleEventSinks(bus: BusConfig | undefined, log: Logger): Promise<{ sinks: IncidentSink[]; close(): Promise<void> }> {
  const sinks: IncidentSink[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const nats = bus?.nats;
  if (nats?.eventsSubject) {
    const nc = await connect({ servers: nats.servers, name: 'medic-worker-events', maxReconnectAttempts: -1 });
    await ensureStream(await jetstreamManager(nc), eventsStream(nats), [`${nats.eventsSubject}.>`]);
    sinks.push(createNatsEventSink({ js: jetstream(nc), subject: nats.eventsSubject }));
    closers.push(() => nc.drain());
    log.info({ subject: `${nats.eventsSubject}.>` }, 'incident lifecycle events to NATS JetStream');
  }
  const kafka = bus?.kafka;
  if (kafka?.eventsTopic) {
    const client = kafkaClient(kafka, log);
    await ensureTopics(client, [kafka.eventsTopic]);
    const producer = idempotentProducer(client);
    await producer.connect();
    sinks.push(createKafkaEventSink({ producer, topic: kafka.eventsTopic }));
    closers.push(() => producer.disconnect());
    log.info({ topic: kafka.eventsTopic }, 'incident lifecycle events to Kafka');
  }
  return { sinks, close: async () => void (await Promise.all(closers.map((c) => c().catch(() => undefined)))) };
}
