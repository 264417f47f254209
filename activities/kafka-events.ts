// Incident lifecycle events to Kafka (src/events/lifecycle.ts), as an incident sink run by the
// publish activity. The producer is idempotent (no duplicates from its own retries); the record
// key is the incident id, so one incident's events stay in order on one partition, and the
// CloudEvent id (also header ce_id) lets consumers drop a copy a retried activity sent again.
import type { Producer } from 'kafkajs';
import { lifecycleSink } from '../src/events/lifecycle.js';
import type { IncidentSink } from '../src/sinks/sink.js';

export function createKafkaEventSink({ producer, topic }: { producer: Producer; topic: string }): IncidentSink {
  return lifecycleSink('kafka-events', async (events) => {
    await producer.send({
      topic,
      acks: -1,
      messages: events.map((e) => ({
        key: e.subject,
        value: JSON.stringify(e),
        headers: { 'content-type': 'application/cloudevents+json', ce_id: e.id, ce_type: e.type },
      })),
    });
  });
}
