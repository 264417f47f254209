// The publish activity: an incident's new timeline entries to every sink (src/sinks/). A failed
// sink makes the activity retry; the others ignore the seqs they have seen.
import type { PublishInput, PublishResult } from '../workflows/contracts.js';
import { publishToSinks, type IncidentSink } from '../src/sinks/sink.js';

export function createPublishActivities({ sinks }: { sinks: IncidentSink[] }) {
  return {
    publishIncident: (input: PublishInput): Promise<PublishResult> => publishToSinks(sinks, input),
  };
}
