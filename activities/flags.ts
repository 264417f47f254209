// Feature-flag side effects: turn a flag on or off in one environment through Unleash's admin API.
// Factory over an injected fetch and secret lookup; the API token is read from the secret inside
// the activity only and never appears in a result, message or log.
//
// Safe to repeat: the state is read first and the flag is switched only when it differs, and the
// step's idempotency key is recorded on the flag before the switch (a feature tag of type
// `medic`, value = a hash of the key). A retry that finds its tag looks in the flag's event log
// for a switch to the target state after that tag: if there is one, its earlier attempt's write
// landed (the answer was lost), and it does not switch again even when someone has since switched
// the flag back. Dry-run only reads.
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { requireSecret } from './secrets.js';

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
  /** An earlier attempt of this step had already switched the flag (found by its tag). */
  alreadyDone?: boolean;
}

/** The tag type medic records its writes with (created on first use). */
export const FLAG_TAG_TYPE = 'medic';

/** The tag value for an idempotency key: Unleash tag values hold 2–50 characters. */
export function flagTagValue(idempotencyKey: string): string {
  return `key-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
}

interface UnleashEvent {
  id: number;
  type: string;
  environment?: string | null;
  createdAt?: string;
  data?: { type?: string; value?: string } | null;
}

const onOff = (enabled: boolean): 'on' | 'off' => (enabled ? 'on' : 'off');
const EXCERPT = 300;

export function createFlagActivities(deps: FlagDeps) {
  async function call(input: FlagActionInput, token: string, signal: AbortSignal, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const base = input.url.replace(/\/+$/, '');
    const what = `Unleash ${method} ${path.replace(/\?.*$/, '')}`;
    let res: Response;
    try {
      res = await deps.fetch(`${base}${path}`, {
        method,
        headers: { authorization: token, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
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
    const token = requireSecret(deps.secret, input.tokenSecret);
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
    const done = (after: boolean, changed: boolean, summary: string, alreadyDone = false): FlagActionResult => ({
      dryRun: input.dryRun,
      summary,
      durationMs: Date.now() - started,
      before,
      after,
      changed,
      ...(alreadyDone ? { alreadyDone } : {}),
    });
    const tag = { type: FLAG_TAG_TYPE, value: flagTagValue(input.idempotencyKey) };
    const tagsPath = `/api/admin/features/${p(input.feature)}/tags`;
    const tags = input.dryRun ? [] : (((await call(input, token, signal, 'GET', tagsPath)) as { tags?: { type: string; value: string }[] } | undefined)?.tags ?? []);
    if (tags.some((t) => t.type === tag.type && t.value === tag.value)) {
      const earlier = await switchAfterTag(input, token, signal, tag.value);
      if (earlier) {
        return done(before, false, `flag ${where}: turned ${target} by an earlier attempt of this step at ${earlier.createdAt ?? 'unknown time'} (now ${onOff(before)}); not repeated`, true);
      }
    }
    if (before === input.enabled) return done(before, false, `flag ${where} already ${target}: no change`);
    if (input.dryRun) return done(input.enabled, false, `dry run: would turn flag ${where} ${onOff(before)} → ${target}`);
    // The intent first: a retry after the switch finds the tag and, after it, the switch event.
    await ensureTagType(input, token, signal);
    await call(input, token, signal, 'POST', tagsPath, tag);
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

  /** Creates the `medic` tag type unless it exists (Unleash refuses tags of an unknown type). */
  async function ensureTagType(input: FlagActionInput, token: string, signal: AbortSignal): Promise<void> {
    const types = (await call(input, token, signal, 'GET', '/api/admin/tag-types')) as { tagTypes?: { name: string }[] } | undefined;
    if (types?.tagTypes?.some((t) => t.name === FLAG_TAG_TYPE)) return;
    try {
      await call(input, token, signal, 'POST', '/api/admin/tag-types', { name: FLAG_TAG_TYPE, description: 'medic records the idempotency key of each flag switch it makes' });
    } catch (err) {
      // Another worker created it meanwhile (409): fine.
      if (!(err instanceof ApplicationFailure && /\b409\b/.test(err.message))) throw err;
    }
  }

  /** The switch of this flag's environment to the target state logged after this step's tag, if any. */
  async function switchAfterTag(input: FlagActionInput, token: string, signal: AbortSignal, value: string): Promise<UnleashEvent | undefined> {
    const since = new Date(firstScheduledMs() - 86_400_000).toISOString().slice(0, 10);
    const q = new URLSearchParams({
      feature: `IS:${input.feature}`,
      type: 'IS_ANY_OF:feature-tagged,feature-environment-enabled,feature-environment-disabled',
      from: `IS:${since}`,
      limit: '1000',
    });
    const res = (await call(input, token, signal, 'GET', `/api/admin/search/events?${q}`)) as { events?: UnleashEvent[] } | undefined;
    const events = [...(res?.events ?? [])].sort((a, b) => a.id - b.id);
    const tagged = events.filter((e) => e.type === 'feature-tagged' && e.data?.type === FLAG_TAG_TYPE && e.data.value === value).at(-1);
    if (!tagged) return undefined;
    const switched = input.enabled ? 'feature-environment-enabled' : 'feature-environment-disabled';
    return events.find((e) => e.id > tagged.id && e.type === switched && e.environment === input.environment);
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

/** When the activity was first scheduled (every attempt shares it); now, outside an activity. */
function firstScheduledMs(): number {
  try {
    return Context.current().info.scheduledTimestampMs;
  } catch {
    return Date.now();
  }
}
