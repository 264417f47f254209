// 10,000 alerts through NATS JetStream and through Kafka (real servers) into real incidents, with
// the bus-intake process (src/intake/bus/main.ts) killed with SIGKILL twice mid-stream and
// restarted: every alert is accounted for in its incident, none counted twice, and the
// dead-letter count equals the poison messages sent. Rows go to test-results/bus-crash.md.
// MEDIC_BUS_CRASH_ALERTS (default 10,000) sets the number of alerts per bus.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Kafka, logLevel } from 'kafkajs';
import { stringify } from 'yaml';
import { incidentWorkflowId } from '../../src/playbooks/match.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { startKafka, startNats, type BusServer } from '../../dev/buses.js';
import { genericBody, heldPlaybook } from '../support/bus-fixtures.js';
import { startMedic, type Medic } from '../support/medic.js';
import { ROOT } from '../support/paths.js';
import { pollUntil } from '../support/poll.js';
import { playbookDir } from '../support/worker-process.js';

const ALERTS = Number(process.env.MEDIC_BUS_CRASH_ALERTS ?? 10_000);
const INCIDENTS = 20;
const POISON_EVERY = 200; // one poison message after every 200 alerts: 50 per 10,000
const KILLS = [0.3, 0.65]; // SIGKILL when this share of the messages is acknowledged
const MAX_IN_FLIGHT = 256;

interface CrashRow {
  bus: string;
  sent: number;
  poison: number;
  kills: number;
  accounted: number;
  duplicates: number;
  redeliveriesIgnored: number;
  deadLettered: number;
  seconds: number;
}

let medic: Medic;
let nats: BusServer;
let kafka: BusServer;
const rows: CrashRow[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  [medic, nats, kafka] = await Promise.all([startMedic(), startNats(), startKafka()]);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all([nats?.stop(), kafka?.stop()]);
  await medic?.stop();
  if (rows.length > 0) {
    const table = renderCrashTable(rows);
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    writeFileSync(join(ROOT, 'test-results', 'bus-crash.md'), table);
    console.log(table);
  }
});

function renderCrashTable(r: CrashRow[]): string {
  return [
    '# Bus intake under SIGKILL',
    '',
    'Each row: alerts published to the bus (one alert per message, into 20 incidents held open at an',
    'approval), poison messages among them (malformed JSON, unknown schema version, oversized in turn),',
    'and the bus-intake process killed with SIGKILL mid-stream and restarted. accounted = distinct alerts',
    'the incidents hold; duplicates = alerts an incident counted more than once; redeliveries ignored =',
    'alerts the bus delivered again after a kill that the incidents recognised (delivery id + fingerprint);',
    'dead-lettered = messages in the dead-letter stream/topic.',
    '',
    '| bus | alerts sent | poison sent | kills | accounted | duplicates | redeliveries ignored | dead-lettered | seconds |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.map((x) => `| ${x.bus} | ${x.sent} | ${x.poison} | ${x.kills} | ${x.accounted} | ${x.duplicates} | ${x.redeliveriesIgnored} | ${x.deadLettered} | ${x.seconds} |`),
    '',
  ].join('\n');
}

/** The i-th poison message: malformed, unknown schema version, oversized (over 64 KiB), in turn. */
function poison(i: number): string {
  switch (i % 3) {
    case 0:
      return `{"alerts": [ broken ${i}`;
    case 1:
      return JSON.stringify({ version: '7', alerts: [{ n: i }] });
    default:
      return JSON.stringify({ alerts: [{ name: 'X', labels: { blob: 'z'.repeat(70_000) } }], n: i });
  }
}

/** The stream of message bodies: ALERTS alerts with a poison message after every POISON_EVERY. */
function messages(alertname: string): { bodies: string[]; poison: number } {
  const bodies: string[] = [];
  let p = 0;
  for (let i = 0; i < ALERTS; i++) {
    bodies.push(genericBody([{ name: alertname, labels: { service: `svc-${i % INCIDENTS}`, instance: `host-${i}` } }]));
    if ((i + 1) % POISON_EVERY === 0) bodies.push(poison(p++));
  }
  return { bodies, poison: p };
}

function startIntake(configFile: string, pbDir: string): ChildProcess {
  const child = fork(join(ROOT, 'src/intake/bus/main.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      MEDIC_CONFIG: configFile,
      MEDIC_TEMPORAL_ADDRESS: medic.env.address,
      MEDIC_TEMPORAL_TASK_QUEUE: medic.config.temporal.taskQueue,
      MEDIC_PLAYBOOKS: pbDir,
      MEDIC_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.push(child);
  return child;
}

/** Runs one bus: publish everything, consume with kills at the KILLS shares, then count. */
async function crashRun(bus: string, pb: Playbook, alertname: string, busConfig: Record<string, unknown>, o: {
  publish(bodies: string[]): Promise<void>;
  acknowledged(): Promise<number>;
  deadLettered(): Promise<number>;
}): Promise<CrashRow> {
  const { bodies, poison: poisonSent } = messages(alertname);
  const dir = mkdtempSync(join(tmpdir(), `medic-bus-${bus}-`));
  const configFile = join(dir, 'medic.yaml');
  writeFileSync(configFile, stringify({ bus: { ...busConfig, maxInFlight: MAX_IN_FLIGHT, maxMessageBytes: 65_536 } }));
  const pbDir = playbookDir([pb]);
  await o.publish(bodies);
  const started = Date.now();
  let child = startIntake(configFile, pbDir);
  let kills = 0;
  for (const share of KILLS) {
    await pollUntil(o.acknowledged, (n) => n >= share * bodies.length, `${bus}: ${share * 100}% acknowledged`, 300_000);
    child.kill('SIGKILL');
    kills += 1;
    child = startIntake(configFile, pbDir);
  }
  await pollUntil(o.acknowledged, (n) => n >= bodies.length, `${bus}: every message acknowledged`, 600_000);
  const seconds = Math.round((Date.now() - started) / 1000);
  child.kill('SIGTERM');
  let accounted = 0;
  let received = 0;
  let redeliveriesIgnored = 0;
  for (let s = 0; s < INCIDENTS; s++) {
    const id = incidentWorkflowId(pb, { alertname, labels: { alertname, service: `svc-${s}` } } as never);
    const want = Math.floor(ALERTS / INCIDENTS) + (s < ALERTS % INCIDENTS ? 1 : 0);
    // signals may still be in the incident's task queue after the last ack: wait for them
    const st = await medic.waitFor(id, (x) => Object.keys(x.fingerprints).length >= want, 120_000).catch(() => medic.status(id));
    accounted += Object.keys(st.fingerprints).length;
    received += st.alertsReceived;
    redeliveriesIgnored += st.redeliveries ?? 0;
  }
  return { bus, sent: ALERTS, poison: poisonSent, kills, accounted, duplicates: received - accounted, redeliveriesIgnored, deadLettered: await o.deadLettered(), seconds };
}

/** Recorded for the table, then: both kills happened, every alert accounted once, every poison
 * message dead-lettered once. */
function checkRow(row: CrashRow): void {
  rows.push(row);
  expect(row.kills).toBe(2);
  expect(row.accounted).toBe(ALERTS);
  expect(row.duplicates).toBe(0);
  expect(row.deadLettered).toBe(row.poison);
}

it(`NATS JetStream: ${ALERTS} alerts, the consumer killed with SIGKILL twice → all accounted, none twice, poison dead-lettered once each`, async () => {
  const alertname = 'BusCrashNats';
  const pb = heldPlaybook('bus-crash-nats', alertname);
  medic.playbooks.push(pb);
  const cfg = { servers: [nats.url], stream: 'CRASH', subject: 'crash.alerts', consumer: 'crash-intake', deadLetterSubject: 'crash.dead', ackWaitSeconds: 5 };
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: cfg.stream, subjects: [cfg.subject, `${cfg.subject}.>`] });
  const js = jetstream(nc);
  const enc = new TextEncoder();
  const row = await crashRun('NATS JetStream', pb, alertname, { nats: cfg }, {
    async publish(bodies) {
      for (let i = 0; i < bodies.length; i += 500) await Promise.all(bodies.slice(i, i + 500).map((b) => js.publish(cfg.subject, enc.encode(b))));
    },
    acknowledged: async () => (await jsm.consumers.info(cfg.stream, cfg.consumer).catch(() => undefined))?.ack_floor.stream_seq ?? 0,
    deadLettered: async () => (await jsm.streams.info(`${cfg.stream}_DEAD_LETTER`)).state.messages,
  });
  await nc.close();
  checkRow(row);
});

it(`Kafka: ${ALERTS} alerts, the consumer killed with SIGKILL twice → all accounted, none twice, poison dead-lettered once each`, async () => {
  const alertname = 'BusCrashKafka';
  const pb = heldPlaybook('bus-crash-kafka', alertname);
  medic.playbooks.push(pb);
  const cfg = { brokers: [kafka.url], topic: 'crash.alerts', groupId: 'crash-intake', deadLetterTopic: 'crash.dead', sessionTimeoutMs: 6_000 };
  const client = new Kafka({ clientId: 'crash-test', brokers: [kafka.url], logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: cfg.topic, numPartitions: 1 }, { topic: cfg.deadLetterTopic, numPartitions: 1 }] });
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const committed = async (): Promise<number> => {
    const [t] = await admin.fetchOffsets({ groupId: cfg.groupId, topics: [cfg.topic] }).catch(() => []);
    return Math.max(0, Number(t?.partitions[0]?.offset ?? 0));
  };
  const row = await crashRun('Kafka', pb, alertname, { kafka: cfg }, {
    async publish(bodies) {
      for (let i = 0; i < bodies.length; i += 500) await producer.send({ topic: cfg.topic, acks: -1, messages: bodies.slice(i, i + 500).map((value) => ({ value })) });
    },
    acknowledged: committed,
    // Distinct originals: the dead-letter key is the original's topic/partition/offset.
    deadLettered: async () => {
      const [p] = await admin.fetchTopicOffsets(cfg.deadLetterTopic);
      return Number(p?.high ?? 0);
    },
  });
  await producer.disconnect();
  await admin.disconnect();
  checkRow(row);
});
