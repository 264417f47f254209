// Entry point: `medic bus-intake` — consumes alerts from the configured buses (config `bus`:
// NATS JetStream, Kafka) and delivers them to incidents exactly like the webhooks do. Its own
// process (README "Event-bus intake"): it scales and restarts apart from the HTTP server, and a
// crash of it loses nothing (unacknowledged messages are delivered again).
import { ConfigError, loadConfig } from '../../config.js';
import { createLogger } from '../../log.js';
import { envPolicyFrom, formatProblem, loadPlaybooks } from '../../playbooks/load.js';
import { connectClient } from '../../temporal/connect.js';
import { MEDIC_VERSION } from '../../version.js';
import { DEFAULT_INTAKE_LIMITS } from '../limits.js';
import { intakeDeliveryDeps } from '../setup.js';
import { startKafkaIntake } from './kafka.js';
import { startNatsIntake, type BusIntake } from './nats.js';
import type { BusIntakeDeps } from './pipeline.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const bus = config.bus;
  const nats = bus?.nats?.intake ? bus.nats : undefined;
  const kafka = bus?.kafka?.intake ? bus.kafka : undefined;
  if (!bus || (!nats && !kafka)) throw new ConfigError(['bus: configure bus.nats (MEDIC_NATS_SERVERS) or bus.kafka (MEDIC_KAFKA_BROKERS) with intake: true']);
  log.info({ version: MEDIC_VERSION, node: process.version }, 'medic bus intake starting');
  const { playbooks, problems } = await loadPlaybooks(config.playbooks, envPolicyFrom(process.env, config.playbookEnv));
  for (const p of problems) log.error({ file: p.file }, `playbook skipped: ${formatProblem(p)}`);
  const client = await connectClient(config);
  const deps: BusIntakeDeps = {
    ingest: intakeDeliveryDeps(config, { client, playbooks: () => playbooks }),
    log,
    limits: config.intake?.limits ?? DEFAULT_INTAKE_LIMITS,
    maxMessageBytes: bus.maxMessageBytes,
  };
  const intakes: BusIntake[] = [];
  if (nats) intakes.push(await startNatsIntake(nats, bus, deps));
  if (kafka) intakes.push(await startKafkaIntake(kafka, bus, deps));
  const stop = (): void =>
    void Promise.all(intakes.map((i) => i.stop()))
      .then(() => client.connection.close())
      .then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A consumer that fails for good ends the process: its supervisor restarts it.
  await Promise.all(intakes.map((i) => i.done));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
