// Feature-flag side effects: turn a flag on or off in one environment through Unleash's admin API.
// Factory over an injected fetch and secret lookup; the API token is read from the secret inside
// the activity only and never appears in a result, message or log.
//
// Safe to repeat: the state is read first and the flag is switched only when it differs, so a
// retried activity (or a second try of the step) never toggles twice; dry-run only reads.
import { ApplicationFailure } from '@temporalio/activity';

export interface FlagDeps {
  fetch: typeof globalThis.fetch;
  /** Resolves a secret name (MEDIC_SECRET_<NAME>); undefined means "not configured". */
  secret: (name: string) => string | undefined;
}

export interface FlagActionInput {
  provider: 'unleash';
  /** Unleash base URL, e.g. https://unleash.example.com (the API lives under /api). */
  url: string;
  project: string;
  environment: string;
  feature: string;
  enabled: boolean;
  /** Secret holding an admin or personal API token. */
  tokenSecret: string;
  idempotencyKey: string;
  dryRun: boolean;
  timeoutMs: number;
}

export interface FlagActionResult {
  dryRun: boolean;
  summary: string;
  durationMs: number;
  /** State found before acting, and after (in a dry run: what it would be). */
  before: boolean;
  after: boolean;
  changed: boolean;
}

const onOff = (enabled: boolean): 'on' | 'off' => (enabled ? 'on' : 'off');
const EXCERPT = 300;

export function createFlagActivities(deps: FlagDeps) {
  async function call(input: FlagActionInput, token: string, signal: AbortSignal, method: 'GET' | 'POST', path: string): Promise<unknown> {
    const base = input.url.replace(/\/+$/, '');
    const what = `Unleash ${method} ${path}`;
    let res: Response;
    try {
      res = await deps.fetch(`${base}${path}`, {
        method,
        headers: { authorization: token, accept: 'application/json' },
        signal,
      });
    } catch (err) {
      // Unreachable or slow: worth retrying (reading first keeps the retry from toggling twice).
      throw new Error(`${what} at ${base} failed: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    if (res.ok) {
      if (text === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // e.g. a proxy's HTML page: not Unleash answering; worth another try.
        throw new Error(`${what} answered ${res.status} with a body that is not JSON: ${text.slice(0, 100)}`);
      }
    }
    const reason = unleashMessage(text);
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      throw new Error(`${what} answered ${res.status}${reason ? `: ${reason}` : ''}`);
    }
    if (res.status === 401 || res.status === 403) {
      throw ApplicationFailure.create({
        type: 'FlagUnauthorized',
        nonRetryable: true,
        message: `${what} answered ${res.status}: Unleash refused the token in secret ${input.tokenSecret}${reason ? ` (${reason})` : ''}; medic needs an admin or personal API token allowed to update feature environments in project ${input.project}`,
        details: [{ status: res.status }],
      });
    }
    if (res.status === 404) {
      throw ApplicationFailure.create({
        type: 'FlagNotFound',
        nonRetryable: true,
        message: `${what} answered 404: ${reason || `no flag ${input.feature} in environment ${input.environment} of project ${input.project}`}`,
        details: [{ status: 404 }],
      });
    }
    throw ApplicationFailure.create({
      type: 'FlagRejected',
      nonRetryable: true,
      message: `${what} answered ${res.status}${reason ? `: ${reason}` : ''}`,
      details: [{ status: res.status }],
    });
  }

  async function setFeatureFlag(input: FlagActionInput): Promise<FlagActionResult> {
    const target = onOff(input.enabled);
    const where = `${input.feature} in ${input.environment} (project ${input.project})`;
    const token = deps.secret(input.tokenSecret);
    if (token === undefined) {
      throw ApplicationFailure.create({
        type: 'MissingSecret',
        nonRetryable: true,
        message: `secret ${input.tokenSecret} is not configured (set MEDIC_SECRET_${input.tokenSecret})`,
      });
    }
    const started = Date.now();
    // One deadline for every call of this attempt, so the attempt ends within the step's timeout.
    const signal = AbortSignal.timeout(input.timeoutMs);
    const p = encodeURIComponent;
    const envPath = `/api/admin/projects/${p(input.project)}/features/${p(input.feature)}/environments/${p(input.environment)}`;
    const read = async (): Promise<boolean> => {
      const env = (await call(input, token, signal, 'GET', envPath)) as { enabled?: unknown } | undefined;
      if (typeof env?.enabled !== 'boolean') throw new Error(`Unleash GET ${envPath} answered without an "enabled" field`);
      return env.enabled;
    };
    const before = await read();
    const done = (after: boolean, changed: boolean, summary: string): FlagActionResult => ({
      dryRun: input.dryRun,
      summary,
      durationMs: Date.now() - started,
      before,
      after,
      changed,
    });
    if (before === input.enabled) return done(before, false, `flag ${where} already ${target}: no change`);
    if (input.dryRun) return done(input.enabled, false, `dry run: would turn flag ${where} ${onOff(before)} → ${target}`);
    await call(input, token, signal, 'POST', `${envPath}/${target}`);
    const after = await read();
    if (after !== input.enabled) {
      // Accepted but not applied (e.g. a change request is required): retrying would not help.
      throw ApplicationFailure.create({
        type: 'FlagNotApplied',
        nonRetryable: true,
        message: `Unleash accepted turning ${where} ${target}, but it still reads ${onOff(after)}`,
      });
    }
    return done(after, true, `flag ${where} ${onOff(before)} → ${onOff(after)}`);
  }

  return { setFeatureFlag };
}

/** Unleash errors are `{ name, message, details }` JSON; anything else is shown as an excerpt. */
function unleashMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') return body.message.slice(0, EXCERPT);
  } catch {
    // not JSON
  }
  return text.trim().slice(0, EXCERPT);
}
