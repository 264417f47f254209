// The incident-store sink: each publish upserts the incident (status, outcome, timings) and adds
// its new timeline entries and step results to the store (src/store/store.ts), once per seq.
import type { Database } from 'better-sqlite3';
import { incidentStore } from '../src/store/store.js';
import type { IncidentSink } from './publish.js';

export function createStoreSink(db: Database): IncidentSink {
  const store = incidentStore(db);
  return {
    name: 'store',
    async publish(input) {
      store.record(input);
    },
  };
}
