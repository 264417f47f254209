// Operator tokens: the MEDIC_OPERATORS syntax (new and old forms), hashing (only digests kept),
// expiry, scopes, `medic token` output that medic accepts back, and the Slack-equivalent rights to
// decide, take and resolve an incident.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, OperatorSchema, operatorsFromEnv } from '../../src/config.js';
import { tokenCommand } from '../../src/cli/token.js';
import { mayDecide, mayResolve, mayTake } from '../../src/incidents/rights.js';
import { authenticate, hasScope, missingScope, newToken, tokenSha256, warnPlaintextTokens } from '../../src/server/auth.js';
import type { IncidentStatus } from '../../workflows/contracts.js';

const INTAKE = 'intake-token-0123456789';
const A = 'alice-token-0123456789ab';
const sha = (t: string): string => createHash('sha256').update(t).digest('hex');
const op = (o: Record<string, unknown>) => OperatorSchema.parse(o);

describe('MEDIC_OPERATORS', () => {
  it('reads user:sha256=<hex>:scopes:expires, scopes separated by commas like the entries', () => {
    const h1 = sha('one-token-0123456789');
    const h2 = sha('two-token-0123456789');
    const c = loadConfig({ MEDIC_INTAKE_TOKEN: INTAKE, MEDIC_OPERATORS: `alice:sha256=${h1}:operate,read:2027-01-01, bob:sha256=${h2}:read,carol:${A}:admin,dave:${A}` });
    expect(c.operators).toEqual([
      { user: 'alice', tokenSha256: h1, plaintext: false, scopes: ['operate', 'read'], expires: '2027-01-01T00:00:00.000Z', groups: [] },
      { user: 'bob', tokenSha256: h2, plaintext: false, scopes: ['read'], groups: [] },
      { user: 'carol', tokenSha256: sha(A), plaintext: true, scopes: ['read', 'operate', 'admin'], groups: [] },
      { user: 'dave', tokenSha256: sha(A), plaintext: true, scopes: ['read', 'operate'], groups: [] },
    ]);
  });

  it('names a bad entry without echoing its token', () => {
    expect(() => operatorsFromEnv(`eve`)).toThrow(ConfigError);
    try {
      loadConfig({ MEDIC_INTAKE_TOKEN: INTAKE, MEDIC_OPERATORS: `alice:${A}:read:notadate:${A}` });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(['MEDIC_OPERATORS: entry 1 (user "alice"): expected user:sha256=<hex>[:scopes][:expires] or user:token[:admin]']);
      expect((err as Error).message).not.toContain(A);
    }
  });

  it('refuses unknown scopes, short hashes and bad dates, naming the field', () => {
    const problems = (v: string): string[] => {
      try {
        loadConfig({ MEDIC_INTAKE_TOKEN: INTAKE, MEDIC_OPERATORS: v });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems(`a:${A}:root`)).toEqual([expect.stringMatching(/^operators\.0\.scopes\.0: .*"read"/)]);
    expect(problems('a:sha256=abc123:read')).toEqual(['operators.0.tokenSha256: must be the hex SHA-256 of the token (64 hex characters; `medic token` prints it)']);
    expect(problems(`a:${A}:read:2027-13-45`)).toEqual([expect.stringMatching(/^operators\.0\.expires: /)]);
  });
});

describe('operator schema', () => {
  it('keeps only the digest of a plain token, and needs exactly one of token / tokenSha256', () => {
    const o = op({ user: 'alice', token: A });
    expect(o).toEqual({ user: 'alice', tokenSha256: sha(A), plaintext: true, scopes: ['read', 'operate'], groups: [] });
    expect(JSON.stringify(o)).not.toContain(A);
    expect(OperatorSchema.safeParse({ user: 'x' }).error?.issues[0]?.message).toBe('set exactly one of tokenSha256 (preferred) or token');
    expect(OperatorSchema.safeParse({ user: 'x', token: A, tokenSha256: sha(A) }).success).toBe(false);
    expect(op({ user: 'x', tokenSha256: sha(A).toUpperCase() }).tokenSha256).toBe(sha(A));
  });
});

describe('authenticate', () => {
  const ops = [op({ user: 'alice', tokenSha256: sha(A), scopes: ['read'], expires: '2027-01-01' }), op({ user: 'root', token: 'root-token-0123456789', admin: true })];
  it('knows a token by its hash; unknown and missing tokens are refused', () => {
    expect(authenticate(ops, A, Date.UTC(2026, 5, 1))).toMatchObject({ ok: true, operator: { user: 'alice' } });
    expect(authenticate(ops, 'root-token-0123456789')).toMatchObject({ ok: true, operator: { user: 'root' } });
    expect(authenticate(ops, 'nope-token-0123456789')).toEqual({ ok: false, error: 'unknown API token' });
    expect(authenticate(ops, undefined)).toEqual({ ok: false, error: 'missing bearer token' });
    expect(authenticate(ops, sha(A))).toEqual({ ok: false, error: 'unknown API token' }); // the hash is not the token
  });
  it('refuses an expired token from its expiry on, saying when', () => {
    const at = Date.UTC(2027, 0, 1);
    expect(authenticate(ops, A, at - 1).ok).toBe(true);
    const r = authenticate(ops, A, at);
    expect(r).toEqual({ ok: false, user: 'alice', error: 'token expired on 2027-01-01T00:00:00.000Z (operator alice): ask an admin for a new one (medic token)' });
  });
  it('scopes: admin includes all; read and operate are separate; the 403 text names the missing scope', () => {
    const reader = op({ user: 'rita', token: A, scopes: ['read'] });
    const operator = op({ user: 'olga', token: A, scopes: ['operate'] });
    expect([hasScope(reader, 'read'), hasScope(reader, 'operate'), hasScope(operator, 'read')]).toEqual([true, false, false]);
    expect(missingScope(reader, 'operate')).toBe('rita may not do this: this needs the operate scope (the token has read)');
    expect(missingScope(reader, 'admin')).toBe('rita is not an admin: this needs the admin scope (the token has read)');
    expect(missingScope(ops[1]!, 'operate')).toBeUndefined();
  });
  it('warns about plain-text tokens by user, never with the token', () => {
    const lines: string[] = [];
    warnPlaintextTokens(ops, { warn: (...args: unknown[]) => void lines.push(JSON.stringify(args)) } as never);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"root"');
    expect(lines[0]).toContain('medic token hash');
    expect(lines[0]).not.toContain('root-token-0123456789');
  });
});

describe('medic token', () => {
  it('prints a fresh token and config lines that medic accepts back for that token', async () => {
    let out = '';
    await tokenCommand([], { user: 'ops-bot', scopes: 'read,operate', expires: '2027-06-01', json: true }, { out: (t) => (out += t), stdin: async () => '' });
    const r = JSON.parse(out) as { token: string; operator: Record<string, unknown>; env: string };
    expect(r.token).toMatch(/^medic_[A-Za-z0-9_-]{43}$/);
    expect(r.operator).toEqual({ user: 'ops-bot', tokenSha256: tokenSha256(r.token), scopes: ['read', 'operate'], expires: '2027-06-01' });
    const c = loadConfig({ MEDIC_INTAKE_TOKEN: INTAKE, MEDIC_OPERATORS: r.env });
    expect(authenticate(c.operators, r.token, Date.UTC(2027, 0, 1))).toMatchObject({ ok: true, operator: { user: 'ops-bot', scopes: ['read', 'operate'] } });
    expect(r.env).not.toContain(r.token);

    let human = '';
    await tokenCommand([], { user: 'x' }, { out: (t) => (human += t), stdin: async () => '' });
    const token = /^ {2}(medic_\S+)$/m.exec(human)![1]!;
    expect(human).toContain(`tokenSha256: ${tokenSha256(token)}, scopes: [read, operate] }`);
  });
  it('hash reads the token on stdin; bad flags are usage errors', async () => {
    let out = '';
    await tokenCommand(['hash'], {}, { out: (t) => (out += t), stdin: async () => `${A}\n` });
    expect(out).toBe(`${sha(A)}\n`);
    await expect(tokenCommand([], { scopes: 'root' }, { out: () => undefined, stdin: async () => '' })).rejects.toThrow('--scopes: "root" is not a scope (read, operate, admin)');
    await expect(tokenCommand([], { expires: 'tomorrow' }, { out: () => undefined, stdin: async () => '' })).rejects.toThrow('--expires');
    await expect(tokenCommand(['hash'], {}, { out: () => undefined, stdin: async () => 'short' })).rejects.toThrow('pipe the token on stdin');
    expect(newToken()).not.toBe(newToken());
  });
});

describe('rights on an incident (as in Slack)', () => {
  const status = (s: Partial<IncidentStatus>) => ({ incidentId: 'incident:x:0123456789ab:abcdef01', ...s }) as IncidentStatus;
  const alice = { user: 'alice', groups: [], admin: false };
  const olga = { user: 'olga', groups: ['@oncall'], admin: false };
  const root = { user: 'root', groups: [], admin: true };
  const pending = status({ pendingApproval: { step: 0, approvers: ['bob', '@oncall'] } as never });

  it('decide: listed users, or members of a listed group (via); admins are not approvers', () => {
    expect(mayDecide(olga, pending)).toEqual({ ok: true, via: '@oncall' });
    expect(mayDecide({ ...alice, user: 'bob' }, pending)).toEqual({ ok: true });
    expect(mayDecide(root, pending)).toEqual({ ok: false, why: 'root may not decide step 1; approvers: bob, @oncall' });
  });
  it('take: members of the waiting rung’s group, or admins', () => {
    const waiting = status({ ladder: { waiting: { rung: 1, group: '@oncall', since: 0, until: 1 }, groups: ['@oncall'] } as never });
    expect(mayTake(olga, waiting)).toEqual({ ok: true, via: '@oncall' });
    expect(mayTake(root, waiting)).toEqual({ ok: true, via: 'admin' });
    expect(mayTake(alice, waiting)).toEqual({ ok: false, why: 'alice may not take incident:x:0123456789ab:abcdef01: only members of @oncall (or admins) may' });
  });
  it('resolve: whoever took it, members of its escalation groups, admins', () => {
    const escalated = status({ ladder: { groups: ['@oncall'] } as never });
    expect(mayResolve(olga, escalated).ok).toBe(true);
    expect(mayResolve(root, escalated).ok).toBe(true);
    expect(mayResolve(alice, escalated)).toEqual({
      ok: false,
      why: 'alice may not resolve incident:x:0123456789ab:abcdef01: only whoever took it (nobody took it), members of its escalation groups (@oncall) or admins may',
    });
    expect(mayResolve(alice, status({ owner: { by: 'alice', at: 0, rung: 0 } })).ok).toBe(true);
    expect(mayResolve(alice, status({})).ok).toBe(false);
  });
});
