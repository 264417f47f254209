// HTTP side effects: the generic `http` action and the HTTP probe used for verification.
// Factory over an injected fetch and secret lookup, so tests point it at real local servers.
import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { HeaderPart } from '../src/playbooks/render.js';
import type { HttpRequest } from '../src/playbooks/schema.js';
import { requireSecret } from './secrets.js';

export interface HttpDeps {
  fetch: typeof globalThis.fetch;
  /** Resolves secret references in header values; undefined means "not configured". */
  secret: (name: string) => string | undefined;
}

/** A request as the workflow rendered it (src/playbooks/render.ts). A header value is literal text,
 * or parts where `{ secret }` marks a reference the playbook itself wrote: only those are resolved,
 * so text that came from an alert (even `{{secret.X}}`) is sent as the text it is. */
export type RenderedHttpRequest = Omit<HttpRequest, 'headers'> & { headers: Record<string, string | HeaderPart[]> };

export interface HttpActionInput {
  request: RenderedHttpRequest;
  /** incident id + step + the workflow's try of the step: the same on every activity retry. */
  idempotencyKey: string;
  dryRun: boolean;
  timeoutMs: number;
}

export interface HttpActionResult {
  dryRun: boolean;
  summary: string;
  status?: number;
  durationMs: number;
  bodyExcerpt?: string;
  /** A server-side dry run's prediction (`medic-would-heal` response header), when it gave one. */
  wouldHeal?: boolean;
}

export interface HttpProbeInput {
  url: string;
  method: 'GET' | 'HEAD' | 'POST';
  expectStatus: number[];
  bodyContains?: string;
  timeoutMs: number;
}

export interface HttpProbeResult {
  ok: boolean;
  status?: number;
  latencyMs: number;
  evidence: string;
}

const SECRET_NAME = /^[A-Za-z0-9_]+$/;
const EXCERPT = 500;
/** A server asking for a longer pause than this gets this (the step's retries still bound it). */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent/invalid. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** What the signature covers: timestamp, method, path and query as sent, body — so a signed
 * request can be neither replayed later nor redirected to another path or method. */
export const signedPayload = (timestamp: string, method: string, pathAndQuery: string, body: string): string =>
  `${timestamp}\n${method.toUpperCase()}\n${pathAndQuery}\n${body}`;

/** hex HMAC-SHA256(key, signedPayload(…)): what a receiver recomputes to verify the request. */
export const hmacSignature = (key: string, timestamp: string, method: string, pathAndQuery: string, body: string): string =>
  createHmac('sha256', key).update(signedPayload(timestamp, method, pathAndQuery, body)).digest('hex');

/** The path and query of a URL as fetch sends them on the request line. */
export const requestTarget = (url: string): string => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

export const describeRequest = (r: Pick<HttpRequest, 'method' | 'url'>): string => `${r.method} ${r.url}`;

export function createHttpActivities(deps: HttpDeps) {
  const secretValue = (name: string): string => requireSecret(deps.secret, name);
  const headerValue = (v: string | HeaderPart[]): string =>
    typeof v === 'string'
      ? v
      : v
          .map((part) => {
            if (typeof part === 'string') return part;
            if (!SECRET_NAME.test(part.secret)) throw ApplicationFailure.create({ type: 'MissingSecret', nonRetryable: true, message: `"${part.secret}" is not a secret name` });
            return secretValue(part.secret);
          })
          .join('');
  const resolveSecrets = (headers: RenderedHttpRequest['headers']): Record<string, string> =>
    Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, headerValue(v)]));
  /** Signed per attempt (fresh timestamp); the key is read here only, never returned. */
  const signature = (request: RenderedHttpRequest, body: string | undefined): Record<string, string> => {
    if (!request.hmac) return {};
    const timestamp = String(Math.floor(Date.now() / 1000));
    const key = secretValue(request.hmac.secret);
    const sig = hmacSignature(key, timestamp, request.method, requestTarget(request.url), body ?? '');
    return { [request.hmac.timestampHeader]: timestamp, [request.hmac.header]: sig };
  };

  async function httpAction(input: HttpActionInput): Promise<HttpActionResult> {
    const { request } = input;
    const what = describeRequest(request);
    // Without server-side dry run nothing is sent; with it, the target answers without acting.
    if (input.dryRun && !request.dryRunHeader) {
      return { dryRun: true, summary: `dry run: would ${what}`, durationMs: 0 };
    }
    const started = Date.now();
    const body = request.method === 'GET' ? undefined : request.body;
    let res: Response;
    try {
      res = await deps.fetch(request.url, {
        method: request.method,
        headers: {
          ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...resolveSecrets(request.headers),
          ...signature(request, body),
          'idempotency-key': input.idempotencyKey,
          ...(input.dryRun && request.dryRunHeader ? { [request.dryRunHeader]: 'true' } : {}),
        },
        body,
        signal: AbortSignal.timeout(input.timeoutMs),
      });
    } catch (err) {
      if (err instanceof ApplicationFailure) throw err;
      // Network errors and timeouts are worth retrying: the server dedupes by Idempotency-Key.
      throw new Error(`${what} failed: ${(err as Error).message}`, { cause: err });
    }
    const excerpt = (await res.text()).slice(0, EXCERPT);
    const durationMs = Date.now() - started;
    if (!request.expectStatus.includes(res.status)) {
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      // 429/503 may say when to come back: the next attempt waits that long instead of the backoff.
      const after = res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get('retry-after')) : undefined;
      throw ApplicationFailure.create({
        type: 'UnexpectedStatus',
        nonRetryable: !retryable,
        message: `${what} answered ${res.status}, expected ${request.expectStatus.join('/')}${after !== undefined ? ` (Retry-After ${after}ms)` : ''}`,
        details: [{ status: res.status, bodyExcerpt: excerpt, ...(after !== undefined ? { retryAfterMs: after } : {}) }],
        ...(after !== undefined && retryable ? { nextRetryDelay: after } : {}),
      });
    }
    if (input.dryRun) {
      const heal = res.headers.get('medic-would-heal');
      const wouldHeal = heal === null ? undefined : heal === 'true';
      const said = wouldHeal === undefined ? '' : wouldHeal ? '; the target says it would heal' : '; the target says it would not heal';
      return { dryRun: true, summary: `dry run: ${what} → ${res.status} (the target's own dry run${said})`, status: res.status, durationMs, bodyExcerpt: excerpt, ...(wouldHeal !== undefined ? { wouldHeal } : {}) };
    }
    return { dryRun: false, summary: `${what} → ${res.status}`, status: res.status, durationMs, bodyExcerpt: excerpt };
  }

  async function httpProbe(input: HttpProbeInput): Promise<HttpProbeResult> {
    const started = Date.now();
    try {
      const res = await deps.fetch(input.url, {
        method: input.method,
        signal: AbortSignal.timeout(input.timeoutMs),
      });
      const body = input.method === 'HEAD' ? '' : await res.text();
      const latencyMs = Date.now() - started;
      if (!input.expectStatus.includes(res.status)) {
        return { ok: false, status: res.status, latencyMs, evidence: `${input.url} answered ${res.status}` };
      }
      if (input.bodyContains !== undefined && !body.includes(input.bodyContains)) {
        return {
          ok: false,
          status: res.status,
          latencyMs,
          evidence: `${input.url} body lacks "${input.bodyContains}"`,
        };
      }
      return { ok: true, status: res.status, latencyMs, evidence: `${input.url} answered ${res.status} in ${latencyMs}ms` };
    } catch (err) {
      return { ok: false, latencyMs: Date.now() - started, evidence: `${input.url} unreachable: ${(err as Error).message}` };
    }
  }

  return { httpAction, httpProbe };
}
