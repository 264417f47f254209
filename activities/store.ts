// The incident-store sink: each publish upserts the incident (status, outcome, timings) and adds
// its new timeline entries and step results to the store (src/store/store.ts, SQLite or
// PostgreSQL), once per seq.
import type { IncidentStore } from '../src/store/store.js';
import type { IncidentSink } from '../src/sinks/sink.js';
import type { SimilarIncident, SimilarQuery } from '../src/store/similar.js';

/** Similar past incidents (read-only). No store configured: none. */
export function createSimilarActivities(store: IncidentStore | undefined) {
  return {
    async similarIncidents(q: SimilarQuery): Promise<SimilarIncident[]> {
      return store ? store.similarTo(q) : [];
    },
  };
}

export function createStoreSink(store: IncidentStore): IncidentSink {
  return {
    name: 'store',
    async publish(input) {
      await store.record(input);
    },
  };
}
