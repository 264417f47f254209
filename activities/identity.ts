// Checks the app's signature on a decide/take/resolve Update (src/identity/sign.ts). Called by the
// incident workflow as a local activity from the Update handler: the key stays in this process,
// out of workflow code and history, and the answer is recorded so replays take the same path.
import type { VerifyIdentityInput, VerifyIdentityResult } from '../workflows/contracts.js';
import { refuseIdentity } from '../src/identity/sign.js';

export interface IdentityDeps {
  /** The identity key (config identityKey); absent: every identity is refused. */
  identityKey?: Buffer;
  now?: () => number;
}

export function createIdentityActivities(deps: IdentityDeps) {
  return {
    async verifyIdentity(input: VerifyIdentityInput): Promise<VerifyIdentityResult> {
      const why = refuseIdentity(deps.identityKey, input.kind, input.incidentId, input.claim, deps.now?.() ?? Date.now());
      return why ? { ok: false, reason: why } : { ok: true };
    },
  };
}
