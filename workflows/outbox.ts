// The durable outbox: an incident's timeline entries reach its sinks (Slack thread, incident
// store, audit log — activities/publish.ts) in order, at least once, whatever the outage.
// - The published cursor (state.publishedSeq) moves only after every sink confirmed a batch.
// - A failed batch is retried (the activity's own retries, then a durable pause) for as long as
//   the incident lives; the state carries the unpublished entries across continue-as-new.
// - The timeline cap spills published entries only (src/incident/state.ts record).
// - After the incident ends, what is still unpublished goes to outboxDrainWorkflow, which keeps
//   trying for OUTBOX_GRACE_MS, so the incident's workflow id is free for the next alert at once.
// Batches coalesce: entries noted while one is in flight go out together when it returns.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  ParentClosePolicy,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { markPublished, unpublished } from '../src/incident/state.js';
import type { IncidentState, IncidentStatus, TimelineEntry } from './contracts.js';
import type { SinkRefs } from './contracts-sinks.js';
import { publishProfile } from './profiles.js';

/** How long after the incident ended its entries are still retried. */
export const OUTBOX_GRACE_MS = 24 * 3_600_000;
/** Durable pause between failed batches (after the activity's own retries): grows to the max. */
const PAUSE_MS = 30_000;
const MAX_PAUSE_MS = 5 * 60_000;

const sinks = proxyActivities<Activities>(publishProfile);
const failureText = (err: unknown): string => {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
};

export interface Outbox {
  /** New entries were noted: publish them (batched after the current activation). */
  kick(): void;
  /** Stop starting batches (continue-as-new): resolves when the batch in flight returned. */
  stop(): Promise<void>;
  /** Resolves once everything is published or one round failed. */
  settle(): Promise<void>;
  idle(): boolean;
}

export function outbox(o: { state: () => IncidentState; status: () => IncidentStatus; cap: number; temporalUiUrl?: string }): Outbox {
  let running: Promise<void> | undefined;
  let queued = false;
  let stopping = false;
  let failedRound = false;
  const loop = async (): Promise<void> => {
    let pause = PAUSE_MS;
    for (let entries = unpublished(o.state()); entries.length > 0 && !stopping; entries = unpublished(o.state())) {
      try {
        const s = o.state();
        const r = await sinks.publishIncident({
          incident: o.status(),
          entries,
          refs: s.sinkRefs,
          ...(o.temporalUiUrl ? { temporalUiUrl: o.temporalUiUrl } : {}),
        });
        markPublished(o.state(), entries[entries.length - 1]!.seq, r.refs, o.cap);
        pause = PAUSE_MS;
      } catch (err) {
        if (isCancellation(err)) throw err;
        failedRound = true;
        log.warn(`publishing the timeline failed, retrying in ${pause / 1000}s: ${failureText(err)}`, { incidentId: o.state().incidentId });
        await condition(() => stopping, pause); // continuing as new carries the entries instead
        pause = Math.min(pause * 2, MAX_PAUSE_MS);
      }
    }
  };
  const start = (): void => {
    queued = false;
    if (running || stopping || unpublished(o.state()).length === 0) return;
    running = loop().finally(() => {
      running = undefined;
      // entries noted after the loop looked for the last time
      if (!stopping && unpublished(o.state()).length > 0) start();
    });
  };
  return {
    kick() {
      if (queued) return;
      queued = true;
      void Promise.resolve().then(start);
    },
    async stop() {
      stopping = true;
      await running;
    },
    async settle() {
      failedRound = false;
      start();
      await condition(() => unpublished(o.state()).length === 0 || failedRound);
    },
    idle: () => running === undefined,
  };
}

export interface DrainInput {
  incident: IncidentStatus;
  entries: TimelineEntry[];
  refs: SinkRefs;
  temporalUiUrl?: string;
  /** Epoch ms: give up after this. */
  until: number;
}

/** Hands what the ended incident could not publish to outboxDrainWorkflow (detached). */
export async function handOver(s: IncidentState, input: Omit<DrainInput, 'entries' | 'refs'>): Promise<void> {
  const entries = unpublished(s);
  if (entries.length === 0) return;
  const { workflowId } = workflowInfo();
  await startChild(outboxDrainWorkflow, {
    workflowId: `${workflowId}/outbox/${s.incidentId}`,
    args: [{ ...input, entries, refs: s.sinkRefs }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
}

/** Publishes an ended incident's last entries until the sinks take them or `until` passes. */
export async function outboxDrainWorkflow(d: DrainInput): Promise<{ published: number }> {
  let published = 0;
  let pause = PAUSE_MS;
  let entries = d.entries;
  while (entries.length > 0 && Date.now() < d.until) {
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 2_000) return continueAsNew<typeof outboxDrainWorkflow>({ ...d, entries });
    try {
      const r = await sinks.publishIncident({ incident: d.incident, entries, refs: d.refs, ...(d.temporalUiUrl ? { temporalUiUrl: d.temporalUiUrl } : {}) });
      Object.assign(d.refs, r.refs);
      published += entries.length;
      entries = [];
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn(`publishing the ended incident's timeline failed, retrying in ${pause / 1000}s: ${failureText(err)}`, { incidentId: d.incident.incidentId });
      await sleep(Math.min(pause, Math.max(0, d.until - Date.now())));
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }
  if (entries.length > 0) throw ApplicationFailure.nonRetryable(`${entries.length} timeline entries of ${d.incident.incidentId} were not published within the grace period`, 'OutboxExpired');
  return { published };
}
