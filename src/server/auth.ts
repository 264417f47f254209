// Bearer-token checks. Tokens are compared as SHA-256 digests with timingSafeEqual, so neither
// their length nor their content leaks through timing; tokens themselves are never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Operator } from '../config.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function sameSecret(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

export function operatorFor(operators: Operator[], token: string | undefined): Operator | undefined {
  if (token === undefined) return undefined;
  // Check every operator (no early exit) so the position of a match does not show in timing.
  let found: Operator | undefined;
  for (const op of operators) if (sameSecret(token, op.token)) found ??= op;
  return found;
}
