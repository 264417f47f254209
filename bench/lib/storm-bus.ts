// `npm run bench:storm -- --via nats|kafka`: the same storm through the event-bus intake. All
// alerts are published first (one alert per message), then the intake (src/intake/bus/) consumes
// them into the running worker; measured: publish rate, and alerts delivered to incidents per
// second from the consumer's start until the last message is acknowledged.
import type { Client } from '@temporalio/client';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { startKafka, startNats, type BusServer } from '../../dev/buses.js';
import { BusSchema } from '../../src/intake/bus/config.js';
import { startKafkaIntake } from '../../src/intake/bus/kafka.js';
import { startNatsIntake, type BusIntake } from '../../src/intake/bus/nats.js';
import type { BusIntakeDeps } from '../../src/intake/bus/pipeline.js';
import { DEFAULT_INTAKE_LIMITS } from '../../src/intake/limits.js';
import type { Playbook } from '../../src/playbooks/schema.js';

export type Via = 'nats' | 'kafka';

export interface BusStormResult {
  publishSeconds: number;
  consumeSeconds: number;
}

const MAX_IN_FLIGHT = 256;

export async function busStorm(via: Via, o: { client: Client; taskQueue: string; playbook: Playbook; bodies: string[]; incidents: number }): Promise<BusStormResult> {
  console.log(`storm: starting ${via === 'nats' ? 'nats-server (JetStream)' : 'Kafka (KRaft)'}…`);
  const server: BusServer = via === 'nats' ? await startNats() : await startKafka();
  const deps: BusIntakeDeps = {
    ingest: { client: o.client, taskQueue: o.taskQueue, playbooks: () => [o.playbook] },
    log: pino({ level: 'warn' }),
    limits: { ...DEFAULT_INTAKE_LIMITS, maxOpenIncidentsPerPlaybook: o.incidents },
    maxMessageBytes: 1_048_576,
  };
  const bus = BusSchema.parse({ maxInFlight: MAX_IN_FLIGHT, ...(via === 'nats' ? { nats: { servers: [server.url] } } : { kafka: { brokers: [server.url] } }) });
  let intake: BusIntake | undefined;
  try {
    const enc = new TextEncoder();
    let publishSeconds: number;
    let acknowledged: () => Promise<number>;
    let start: () => Promise<BusIntake>;
    let close: () => Promise<unknown>;
    if (via === 'nats') {
      const cfg = bus.nats!;
      const nc = await connect({ servers: server.url });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: cfg.stream, subjects: [cfg.subject, `${cfg.subject}.>`] });
      const js = jetstream(nc);
      const t0 = performance.now();
      for (let i = 0; i < o.bodies.length; i += 500) await Promise.all(o.bodies.slice(i, i + 500).map((b) => js.publish(cfg.subject, enc.encode(b))));
      publishSeconds = (performance.now() - t0) / 1000;
      acknowledged = async () => (await jsm.consumers.info(cfg.stream, cfg.consumer)).ack_floor.stream_seq;
      start = () => startNatsIntake(cfg, bus, deps);
      close = () => nc.close();
    } else {
      const cfg = bus.kafka!;
      const kafka = new Kafka({ clientId: 'storm', brokers: [server.url], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: cfg.topic, numPartitions: 1 }] });
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const t0 = performance.now();
      for (let i = 0; i < o.bodies.length; i += 500) await producer.send({ topic: cfg.topic, acks: -1, messages: o.bodies.slice(i, i + 500).map((value) => ({ value })) });
      publishSeconds = (performance.now() - t0) / 1000;
      await producer.disconnect();
      acknowledged = async () => Number((await admin.fetchOffsets({ groupId: cfg.groupId, topics: [cfg.topic] }))[0]?.partitions[0]?.offset ?? 0);
      start = () => startKafkaIntake(cfg, bus, deps);
      close = () => admin.disconnect();
    }
    console.log(`storm: ${o.bodies.length} messages published in ${publishSeconds.toFixed(1)} s; consuming (maxInFlight ${MAX_IN_FLIGHT})…`);
    const t1 = performance.now();
    intake = await start();
    for (let last = 0; ; ) {
      const n = await acknowledged().catch(() => 0);
      if (n >= o.bodies.length) break;
      if (Math.floor(n / 2000) > Math.floor(last / 2000)) console.log(`storm: ${n}/${o.bodies.length} acknowledged`);
      last = n;
      await new Promise((r) => setTimeout(r, 200));
    }
    const consumeSeconds = (performance.now() - t1) / 1000;
    await close();
    return { publishSeconds, consumeSeconds };
  } finally {
    await intake?.stop();
    await server.stop();
  }
}
