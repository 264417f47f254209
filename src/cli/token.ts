// `medic token`: makes a random operator token and prints the config that grants it, holding only
// its SHA-256 (what medic stores); `medic token hash` prints the SHA-256 of a token read on stdin,
// to move a plain-text `token` in config to `tokenSha256`. Tokens never go on a command line.
import { ScopeSchema, type Scope } from '../config.js';
import { newToken, tokenSha256 } from '../server/auth.js';

export class TokenUsageError extends Error {}

const USAGE = 'usage: medic token [--user name] [--scopes read,operate,admin] [--expires YYYY-MM-DD] | medic token hash < token-file';

export async function tokenCommand(
  args: string[],
  values: { user?: string; scopes?: string; expires?: string; json?: boolean },
  io: { out: (text: string) => void; stdin: () => Promise<string> },
): Promise<number> {
  if (args[0] === 'hash') {
    const token = (await io.stdin()).trim();
    if (token.length < 16) throw new TokenUsageError('medic token hash: pipe the token on stdin (at least 16 characters), e.g. medic token hash < token.txt');
    io.out(`${tokenSha256(token)}\n`);
    return 0;
  }
  if (args.length > 0) throw new TokenUsageError(USAGE);
  const user = values.user ?? 'operator';
  if (!/^[^:,\s]+$/.test(user)) throw new TokenUsageError('--user: a name without spaces, ":" or ","');
  const scopes: Scope[] = [];
  for (const s of (values.scopes ?? 'read,operate').split(',').map((x) => x.trim()).filter(Boolean)) {
    const parsed = ScopeSchema.safeParse(s);
    if (!parsed.success) throw new TokenUsageError(`--scopes: "${s}" is not a scope (read, operate, admin)`);
    scopes.push(parsed.data);
  }
  if (values.expires !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(values.expires) || Number.isNaN(Date.parse(values.expires)))) {
    throw new TokenUsageError('--expires: an ISO date, e.g. 2027-01-01 (the token is refused from that day, 00:00 UTC)');
  }
  const token = newToken();
  const hash = tokenSha256(token);
  const env = `${user}:sha256=${hash}:${scopes.join(',')}${values.expires ? `:${values.expires}` : ''}`;
  if (values.json) {
    io.out(`${JSON.stringify({ token, operator: { user, tokenSha256: hash, scopes, ...(values.expires ? { expires: values.expires } : {}) }, env }, null, 2)}\n`);
    return 0;
  }
  io.out(
    [
      `token (give it to ${user}; medic keeps only its hash, so it cannot be shown again):`,
      `  ${token}`,
      '',
      'medic config (YAML, operators:):',
      `  - { user: ${user}, tokenSha256: ${hash}, scopes: [${scopes.join(', ')}]${values.expires ? `, expires: ${values.expires}` : ''} }`,
      '',
      'or in MEDIC_OPERATORS (comma-separated with the others):',
      `  ${env}`,
      '',
    ].join('\n'),
  );
  return 0;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
