// The weekly digest activity: builds the digest from the incident store (and Prometheus for SLOs)
// and posts it to Slack. One post per scheduled run: the run's workflow id keys it, so a retry
// after a post that went out (but whose completion was lost) does not post again from this worker.
import { ApplicationFailure } from '@temporalio/activity';
import type { WebClient } from '@slack/web-api';
import { buildDigest, digestMessage } from '../src/digest/digest.js';
import type { Slo } from '../src/report/slo.js';
import type { IncidentStore } from '../src/store/store.js';
import type { DigestPostInput, DigestPostResult } from '../workflows/contracts-digest.js';

export interface DigestDeps {
  store: IncidentStore;
  web: WebClient;
  /** Default channel (the digest config's, else slack.channel). */
  channel: string;
  slos?: readonly Slo[];
  prometheusUrl?: string;
  fetch?: typeof fetch;
}

export function createDigestActivities(deps: DigestDeps | undefined) {
  const posted = new Map<string, DigestPostResult>();
  return {
    async postDigest(input: DigestPostInput): Promise<DigestPostResult> {
      if (!deps) {
        throw ApplicationFailure.create({ type: 'DigestNotConfigured', nonRetryable: true, message: 'this worker has no digest configured (digest, slack and store sections)' });
      }
      const done = posted.get(input.key);
      if (done) return done;
      const digest = await buildDigest(deps, input.to - input.periodMs, input.to);
      const channel = input.channel ?? deps.channel;
      const m = digestMessage(digest);
      const r = await deps.web.chat.postMessage({ channel, text: m.text, blocks: m.blocks, unfurl_links: false });
      if (!r.ts) throw new Error('chat.postMessage returned no ts');
      const result = { channel: r.channel ?? channel, ts: r.ts, incidents: digest.report.current.incidents, slos: digest.slos.length };
      posted.set(input.key, result);
      return result;
    },
  };
}
