// PagerDuty from the incident workflow: the decision core decides when to page and resolve
// (src/incident/escalation.ts); this module sends. Triggers go out in the background (a 429 or
// an outage is retried with backoff) while the incident goes on; each answer is handed back to
// the core as a `paged` event. The routing key stays a secret name: the activity resolves it.
import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { IncidentCommand, UntimedEvent } from '../src/incident/types.js';
import { pagerdutyProfile } from './profiles.js';

const pd = proxyActivities<Activities>(pagerdutyProfile);
const failureText = (err: unknown): string => {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
};

export interface Pager {
  send(c: Extract<IncidentCommand, { kind: 'page' | 'resolvePage' }>): void;
  /** No call to PagerDuty is in flight. */
  idle(): boolean;
}

export function pager(dispatch: (e: UntimedEvent) => void): Pager {
  let inFlight = 0;
  const call = (rung: number, action: 'trigger' | 'resolve', p: Promise<{ status: number; message: string; dedupKey?: string }>): void => {
    inFlight += 1;
    void p
      .then(
        (result) => dispatch({ kind: 'paged', rung, action, ok: true, result }),
        (err: unknown) => {
          if (isCancellation(err)) throw err;
          dispatch({ kind: 'paged', rung, action, ok: false, error: failureText(err) });
        },
      )
      .finally(() => void (inFlight -= 1));
  };
  return {
    send(c) {
      if (c.kind === 'page') call(c.rung, 'trigger', pd.pagerdutyTrigger({ routingKeySecret: c.routingKeySecret, page: c.page }));
      else call(c.rung, 'resolve', pd.pagerdutyResolve({ routingKeySecret: c.routingKeySecret, dedupKey: c.dedupKey }));
    },
    idle: () => inFlight === 0,
  };
}
