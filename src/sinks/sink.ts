// Sinks: where an incident's new timeline entries go (Slack thread, audit log, incident store, …).
// The workflow publishes in the background through one activity (activities/publish.ts) that fans
// out here. Each sink must be idempotent per entry seq: a retried activity hands it the same
// entries again, possibly on another worker.
import type { PublishInput, PublishResult } from '../../workflows/contracts.js';
import type { SinkRefs } from '../../workflows/contracts-sinks.js';

export interface IncidentSink {
  name: string;
  /** Returns references the workflow keeps and passes back next time (e.g. its Slack messages). */
  publish(input: PublishInput): Promise<Partial<SinkRefs> | void>;
}

/** Runs every sink; a failed one fails the whole publish (so it is retried), after the others ran. */
export async function publishToSinks(sinks: IncidentSink[], input: PublishInput): Promise<PublishResult> {
  let refs: SinkRefs = { ...input.refs };
  const failures: string[] = [];
  for (const sink of sinks) {
    try {
      refs = { ...refs, ...((await sink.publish({ ...input, refs })) ?? {}) };
    } catch (err) {
      failures.push(`${sink.name}: ${(err as Error).message}`);
    }
  }
  if (failures.length > 0) throw new Error(`publishing failed for ${failures.join('; ')}`);
  return { refs };
}
