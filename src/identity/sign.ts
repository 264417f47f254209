// Signed identity for the Updates that carry a person (decide, take, resolve). Whoever can reach
// Temporal can send an Update claiming any user; only medic's app (Slack listeners, operator API)
// knows who really clicked or which operator token was used. So the app signs what it vouches for
// with a key that only it and the worker hold, and the worker checks the signature
// (activities/identity.ts) before the workflow accepts the identity. The key never enters
// workflow code or history; the MAC does, which is harmless without the key.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IdentityKind, IdentityProof } from '../../workflows/contracts.js';

/** A proof older than this (or this far in the future: clock skew) is refused. */
export const PROOF_MAX_AGE_MS = 5 * 60_000;
const VERSION = 'medic-identity/v1';

/** What the MAC covers: the kind, the incident, and every field of the input but the proof
 * (user, step or rung, decision, via, reason), in a fixed order, plus when it was issued. */
export function identityPayload(kind: IdentityKind, incidentId: string, claim: Record<string, unknown>, issuedAt: number): string {
  const fields = Object.keys(claim)
    .filter((k) => k !== 'proof' && claim[k] !== undefined)
    .sort()
    .map((k) => [k, claim[k]]);
  return JSON.stringify([VERSION, kind, incidentId, issuedAt, fields]);
}

const macOf = (key: Buffer, payload: string): string => createHmac('sha256', key).update(payload).digest('hex');

/** The input with its proof, as the app sends it. */
export function signIdentity<T extends object>(key: Buffer, kind: IdentityKind, incidentId: string, claim: T, now = Date.now()): T & { proof: IdentityProof } {
  const { proof: _old, ...rest } = claim as T & { proof?: unknown };
  const mac = macOf(key, identityPayload(kind, incidentId, rest as Record<string, unknown>, now));
  return { ...(rest as T), proof: { issuedAt: now, mac } };
}

/** Why the claimed identity must be refused, or undefined when the app vouched for it. */
export function refuseIdentity(key: Buffer | undefined, kind: IdentityKind, incidentId: string, claim: Record<string, unknown>, now = Date.now()): string | undefined {
  if (!key) return 'this worker has no identity key (identityKey / MEDIC_IDENTITY_KEY), so it accepts no identity';
  const proof = claim.proof as Partial<IdentityProof> | undefined;
  if (!proof || typeof proof.mac !== 'string' || typeof proof.issuedAt !== 'number') {
    return 'no identity proof: identities are accepted only when medic\'s app signed them';
  }
  const expected = Buffer.from(macOf(key, identityPayload(kind, incidentId, claim, proof.issuedAt)), 'hex');
  const given = Buffer.from(proof.mac, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return 'identity proof does not match (not signed by medic\'s app with this key, or the input or incident differs from what was signed)';
  }
  if (Math.abs(now - proof.issuedAt) > PROOF_MAX_AGE_MS) {
    return `identity proof issued at ${new Date(proof.issuedAt).toISOString()} is outside the ${PROOF_MAX_AGE_MS / 60_000}-minute window`;
  }
  return undefined;
}
