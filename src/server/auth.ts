// Bearer-token checks for the operator API. Tokens are kept only as SHA-256 digests (config
// tokenSha256, or the digest of a plain `token`) and compared with timingSafeEqual against every
// operator, so neither which operator matched nor the token's content leaks through timing. A
// token itself is never logged, echoed in an error or kept after config parsing.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Operator, Scope } from '../config.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Hex SHA-256 of a token: what config's tokenSha256 holds. */
export const tokenSha256 = (token: string): string => digest(token).toString('hex');

/** A fresh operator token: 32 random bytes, base64url, with a prefix secret scanners recognise. */
export const newToken = (): string => `medic_${randomBytes(32).toString('base64url')}`;

export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function sameSecret(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

export function operatorFor(operators: Operator[], token: string | undefined): Operator | undefined {
  if (token === undefined) return undefined;
  const given = digest(token);
  // Check every operator (no early exit) so the position of a match does not show in timing.
  let found: Operator | undefined;
  for (const op of operators) if (timingSafeEqual(given, Buffer.from(op.tokenSha256, 'hex'))) found ??= op;
  return found;
}

export type Authentication = { ok: true; operator: Operator } | { ok: false; error: string; user?: string };

/** Who a bearer token belongs to, if it is known and not expired at `now`. */
export function authenticate(operators: Operator[], token: string | undefined, now = Date.now()): Authentication {
  if (token === undefined) return { ok: false, error: 'missing bearer token' };
  const op = operatorFor(operators, token);
  if (!op) return { ok: false, error: 'unknown API token' };
  if (op.expires !== undefined && now >= Date.parse(op.expires)) {
    return { ok: false, user: op.user, error: `token expired on ${op.expires} (operator ${op.user}): ask an admin for a new one (medic token)` };
  }
  return { ok: true, operator: op };
}

/** admin includes every scope; read and operate are granted separately. */
export const hasScope = (op: Operator, scope: Scope): boolean => op.scopes.includes('admin') || op.scopes.includes(scope);

/** The 403 text when `op` lacks `scope`, naming the scope and what the token has. */
export function missingScope(op: Operator, scope: Scope): string | undefined {
  if (hasScope(op, scope)) return undefined;
  const who = scope === 'admin' ? `${op.user} is not an admin` : `${op.user} may not do this`;
  return `${who}: this needs the ${scope} scope (the token has ${op.scopes.join(', ')})`;
}

/** At start: plain-text tokens in config work, but the operator is told to store the hash instead. */
export function warnPlaintextTokens(operators: Operator[], log: Pick<Logger, 'warn'>): void {
  const plain = operators.filter((o) => o.plaintext).map((o) => o.user);
  if (plain.length === 0) return;
  log.warn(
    { operators: plain },
    'operator tokens are configured in plain text; store their SHA-256 instead (operators[].tokenSha256, or MEDIC_OPERATORS user:sha256=<hex>): `medic token hash` reads a token on stdin and prints it',
  );
}
