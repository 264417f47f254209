// Resolving a secret by name for an activity: a missing one is a permanent failure (no retry
// can make it appear), named so the operator knows which variable to set.
import { ApplicationFailure } from '@temporalio/activity';

export type SecretLookup = (name: string) => string | undefined;

/** The secret's value, or a nonRetryable `MissingSecret` failure; `what` says what it is for. */
export function requireSecret(secret: SecretLookup, name: string, what?: string): string {
  const value = secret(name);
  if (value === undefined) {
    throw ApplicationFailure.create({
      type: 'MissingSecret',
      nonRetryable: true,
      message: `secret ${name}${what ? ` (${what})` : ''} is not configured (set MEDIC_SECRET_${name})`,
    });
  }
  return value;
}
