// Fan-out of an incident's new timeline entries to its sinks (Slack thread, audit log, incident
// store, …). The workflow publishes in the background; each sink must be idempotent per entry
// seq, because a retried activity hands it the same entries again.
import type { PublishInput, PublishResult } from '../workflows/contracts.js';

export interface IncidentSink {
  name: string;
  /** Returns references the workflow should remember and pass back next time (e.g. a message ts). */
  publish(input: PublishInput): Promise<Record<string, string> | void>;
}

export function createPublishActivities({ sinks }: { sinks: IncidentSink[] }) {
  return {
    async publishIncident(input: PublishInput): Promise<PublishResult> {
      const refs = { ...input.refs };
      const failures: string[] = [];
      for (const sink of sinks) {
        try {
          Object.assign(refs, (await sink.publish({ ...input, refs })) ?? {});
        } catch (err) {
          failures.push(`${sink.name}: ${(err as Error).message}`);
        }
      }
      // Every sink ran; a failed one makes the activity retry (the others ignore seen seqs).
      if (failures.length > 0) throw new Error(`publishing failed for ${failures.join('; ')}`);
      return { refs };
    },
  };
}
