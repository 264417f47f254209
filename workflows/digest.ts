// The weekly digest: one short workflow per scheduled run, which asks the digest activity to
// build the report for the period ending now (workflow time) and post it to Slack.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createDigestActivities } from '../activities/digest.js';
import type { DigestInput, DigestPostResult } from './contracts-digest.js';

const { postDigest } = proxyActivities<ReturnType<typeof createDigestActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20, nonRetryableErrorTypes: ['DigestNotConfigured'] },
});

export async function digestWorkflow(input: DigestInput): Promise<DigestPostResult> {
  return postDigest({ ...input, to: Date.now(), key: workflowInfo().workflowId });
}
