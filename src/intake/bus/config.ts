// Event-bus configuration (config `bus`): alerts consumed from NATS JetStream and/or Kafka, and
// incident lifecycle events published back as CloudEvents. README "Event-bus intake".
import { z } from 'zod';

/** NATS subject tokens: no whitespace; wildcards only where a filter is meant. */
const Subject = z.string().regex(/^[^\s*>]+$/, 'a NATS subject without wildcards or spaces');
const Name = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ only (at most 64)');
const Topic = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name (letters, digits, . _ -)');
const List = z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(z.string().min(1)).min(1));
const Flag = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

export const NatsBusSchema = z.strictObject({
  servers: List.describe('NATS servers, e.g. nats://nats-1:4222 (env MEDIC_NATS_SERVERS: comma-separated)'),
  intake: Flag.default(true).describe('Consume alerts from the stream (`medic bus-intake`); false: only publish events'),
  stream: Name.default('MEDIC_ALERTS').describe('JetStream stream holding the alerts; created with `subject` when missing'),
  subject: Subject.default('medic.alerts').describe('Subject alerts are published on (the stream captures it and its sub-subjects)'),
  consumer: Name.default('medic-intake').describe('Durable pull consumer shared by every bus-intake replica (explicit ack)'),
  deadLetterSubject: Subject.default('medic.dead-letter').describe('Poison messages are republished here with the validation error (header Medic-Error), in stream `<stream>_DEAD_LETTER`'),
  eventsSubject: Subject.optional().describe('Publish incident lifecycle events as CloudEvents on `<eventsSubject>.<opened|action|verified|escalated|resolved>` (stream `<stream>_EVENTS`, deduplicated by CloudEvent id). Absent: no events'),
  ackWaitSeconds: z.coerce.number().int().min(5).max(3_600).default(30).describe('Redelivery after this long without an ack; the consumer extends it while Temporal is unreachable'),
});

export const KafkaBusSchema = z.strictObject({
  brokers: List.describe('Kafka bootstrap brokers, host:port (env MEDIC_KAFKA_BROKERS: comma-separated)'),
  intake: Flag.default(true).describe('Consume alerts from `topic` (`medic bus-intake`); false: only publish events'),
  clientId: z.string().min(1).default('medic').describe('Kafka client id'),
  topic: Topic.default('medic.alerts').describe('Topic alerts are consumed from'),
  groupId: z.string().min(1).default('medic-intake').describe('Consumer group shared by every bus-intake replica; offsets are committed only after the alerts reached their incidents'),
  deadLetterTopic: Topic.default('medic.alerts.dead-letter').describe('Poison messages go here (header medic-error), in one transaction with the offset commit: each exactly once'),
  eventsTopic: Topic.optional().describe('Publish incident lifecycle events as CloudEvents here (idempotent producer, key = incident id). Absent: no events'),
  sessionTimeoutMs: z.coerce
    .number()
    .int()
    .min(6_000)
    .default(30_000)
    .describe("Consumer group session timeout: a crashed replica's partitions move to another after this long (the broker's group.min.session.timeout.ms is the floor)"),
});

export const BusSchema = z
  .strictObject({
    nats: NatsBusSchema.optional().describe('NATS JetStream'),
    kafka: KafkaBusSchema.optional().describe('Apache Kafka'),
    maxInFlight: z.coerce
      .number()
      .int()
      .min(1)
      .max(1_024)
      .default(64)
      .describe('Messages taken from the bus and not yet acknowledged, per bus: the bound on what a consumer holds while Temporal is slow or unreachable (then it stops taking more)'),
    maxMessageBytes: z.coerce
      .number()
      .int()
      .min(1_024)
      .max(8 * 1_048_576)
      .default(1_048_576)
      .describe('A bigger message is dead-lettered as oversized (like the webhook body limit)'),
  })
  .describe('Event-bus intake and lifecycle events (NATS JetStream, Kafka). Absent: webhooks only');
export type BusConfig = z.infer<typeof BusSchema>;
export type NatsBusConfig = z.infer<typeof NatsBusSchema>;
export type KafkaBusConfig = z.infer<typeof KafkaBusSchema>;
