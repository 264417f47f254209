// Identity in decide/take/resolve Updates is accepted only when medic's app signed it
// (src/identity/sign.ts). The check runs in a local activity called from the Update handler:
// workflow code can hold no key (everything in it is replayed from history, which anyone with
// Temporal access reads) and may not use node:crypto; the validator stays synchronous for the
// cheap state checks, since validators cannot run activities. A workflow interceptor would run
// inside the same sandbox, so it could not hold the key either.
import { ApplicationFailure, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { IdentityKind } from './contracts.js';

const identity = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumAttempts: 5 },
});

/**
 * Resolves when the app vouched for the claim; otherwise calls `refused` (which records the forged
 * claim in the timeline, and so the audit log) and throws, failing the Update: nothing acts.
 */
export async function requireSignedIdentity(
  kind: IdentityKind,
  incidentId: string,
  claim: object,
  refused: (reason: string) => void,
): Promise<void> {
  const r = await identity.verifyIdentity({ kind, incidentId, claim: { ...claim } as Record<string, unknown> });
  if (r.ok) return;
  refused(r.reason);
  throw ApplicationFailure.create({ message: `identity not accepted: ${r.reason}`, type: 'ForgedIdentity', nonRetryable: true });
}
