// Incident lifecycle events to NATS JetStream (src/events/lifecycle.ts), as an incident sink run
// by the publish activity. Each event's Nats-Msg-Id is its CloudEvent id: JetStream drops a copy a
// retried activity publishes again within the stream's duplicate window (2 min), and consumers
// dedupe on the id beyond it.
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { lifecycleSink } from '../src/events/lifecycle.js';
import type { IncidentSink } from '../src/sinks/sink.js';

export function createNatsEventSink({ js, subject }: { js: JetStreamClient; subject: string }): IncidentSink {
  const enc = new TextEncoder();
  return lifecycleSink('nats-events', async (events) => {
    for (const e of events) {
      const h = headers();
      h.set('Content-Type', 'application/cloudevents+json');
      h.set('ce-type', e.type);
      await js.publish(`${subject}.${e.data.event}`, enc.encode(JSON.stringify(e)), { msgID: e.id, headers: h, timeout: 5_000 });
    }
  });
}
