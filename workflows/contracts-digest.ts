// Contracts of the weekly digest workflow (started by a Temporal Schedule, src/digest/schedule.ts).
export const DIGEST_WORKFLOW = 'digestWorkflow';

export interface DigestInput {
  /** Length of the period the digest covers, in ms (compared with the period before it). */
  periodMs: number;
  /** Slack channel; default: the worker's digest channel. */
  channel?: string;
}

export interface DigestPostInput extends DigestInput {
  /** End of the period (epoch ms): the run's start, fixed so a retry reports the same period. */
  to: number;
  /** Idempotency key: the scheduled run's workflow id. */
  key: string;
}

export interface DigestPostResult {
  channel: string;
  ts: string;
  incidents: number;
  slos: number;
}
