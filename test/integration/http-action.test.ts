// The generic http action against a real local HTTP server: HMAC request signing (the key stays
// out of workflow history) and retries that wait as long as a 429/503's Retry-After asks.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { createHttpActivities, retryAfterMs, type HttpActionInput } from '../../activities/http.js';
import { HttpRequestSchema, PlaybookSchema, type HttpRequest } from '../../src/playbooks/schema.js';
import { incidentIdFrom, startMedic, type Medic } from '../support/medic.js';

const KEY = 'hook-signing-key-9f8e7d6c5b4a';

interface Seen {
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
/** A receiver that records every request and answers from a script (then 200). */
let server: Server;
let url: string;
let seen: Seen[] = [];
let script: { status: number; headers?: Record<string, string> }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const next = script.shift() ?? { status: 200 };
      res.writeHead(next.status, { 'content-type': 'text/plain', ...next.headers }).end(`status ${next.status}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
const reset = (s: typeof script = []): void => {
  seen = [];
  script = s;
};

/** The receiver's check, written out from the documented format: timestamp \n METHOD \n path?query \n body. */
const verify = (s: Seen, path = s.url): boolean => {
  const ts = String(s.headers['x-signature-timestamp']);
  return createHmac('sha256', KEY).update(`${ts}\n${s.method}\n${path}\n${s.body}`).digest('hex') === s.headers['x-signature'];
};

const http = createHttpActivities({ fetch: globalThis.fetch, secret: (n) => (n === 'HOOK_KEY' ? KEY : undefined) });
const input = (request: Partial<HttpRequest>): HttpActionInput => ({
  request: HttpRequestSchema.parse({ url: `${url}/hook`, ...request }),
  idempotencyKey: 'incident:x:step-0:try-1',
  dryRun: false,
  timeoutMs: 5_000,
});
const failureOf = async (p: Promise<unknown>): Promise<ApplicationFailure> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected a failure');
};

describe('HMAC request signing', () => {
  it('signs timestamp, method, path and query, and body; the receiver can verify it, and not for another path', async () => {
    reset();
    const before = Math.floor(Date.now() / 1000);
    await http.httpAction(input({ body: '{"shift":"eu-west"}', hmac: { secret: 'HOOK_KEY', header: 'x-signature', timestampHeader: 'x-signature-timestamp' } }));
    const [s] = seen;
    expect(s?.body).toBe('{"shift":"eu-west"}');
    expect(s?.headers['x-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(s?.headers['x-signature-timestamp'])).toBeGreaterThanOrEqual(before);
    expect(verify(s!)).toBe(true);
    expect(verify(s!, '/admin/fault')).toBe(false); // the same signature does not hold for another path
    expect(JSON.stringify(s?.headers)).not.toContain(KEY);
  });

  it('custom header names; a GET signs an empty body, with its query', async () => {
    reset();
    await http.httpAction(input({ method: 'GET', url: `${url}/hook?a=1&b=%2F`, hmac: { secret: 'HOOK_KEY', header: 'x-hub-sig', timestampHeader: 'x-hub-ts' } }));
    const s = seen[0]!;
    expect(s.url).toBe('/hook?a=1&b=%2F');
    expect(s.headers['x-hub-sig']).toBe(createHmac('sha256', KEY).update(`${String(s.headers['x-hub-ts'])}\nGET\n/hook?a=1&b=%2F\n`).digest('hex'));
  });

  it('a missing secret is a permanent failure and nothing is sent', async () => {
    reset();
    const f = await failureOf(http.httpAction(input({ hmac: { secret: 'NOPE', header: 'x-signature', timestampHeader: 'x-signature-timestamp' } })));
    expect(f).toMatchObject({ type: 'MissingSecret', nonRetryable: true });
    expect(seen).toHaveLength(0);
  });
});

describe('Retry-After', () => {
  it('429 with delta-seconds → retryable failure whose next retry waits that long', async () => {
    reset([{ status: 429, headers: { 'retry-after': '7' } }]);
    const f = await failureOf(http.httpAction(input({})));
    expect(f).toMatchObject({ type: 'UnexpectedStatus', nonRetryable: false, nextRetryDelay: 7000 });
    expect(f.message).toContain('answered 429');
  });

  it('503 with an HTTP date; 500 and 400 ignore the header (400 is permanent)', async () => {
    reset([
      { status: 503, headers: { 'retry-after': new Date(Date.now() + 20_000).toUTCString() } },
      { status: 500, headers: { 'retry-after': '9' } },
      { status: 400, headers: { 'retry-after': '9' } },
    ]);
    const f503 = await failureOf(http.httpAction(input({})));
    expect(f503.nonRetryable).toBe(false);
    expect(Number(f503.nextRetryDelay)).toBeGreaterThan(17_000);
    expect(Number(f503.nextRetryDelay)).toBeLessThanOrEqual(20_000);
    expect(await failureOf(http.httpAction(input({})))).toMatchObject({ nonRetryable: false, nextRetryDelay: undefined });
    expect(await failureOf(http.httpAction(input({})))).toMatchObject({ nonRetryable: true, nextRetryDelay: undefined });
  });

  it('parses delta-seconds and dates, caps at 10 minutes, ignores garbage', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('86400', now)).toBe(600_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('on a real Temporal dev server', () => {
  let m: Medic;
  beforeAll(async () => {
    m = await startMedic({ secrets: { HOOK_KEY: KEY } });
  });
  afterAll(() => m?.stop());

  it('a signed step rate-limited once waits out Retry-After, then succeeds; the key never enters history', async () => {
    reset([{ status: 429, headers: { 'retry-after': '3' } }]);
    m.playbooks.push(
      PlaybookSchema.parse({
        name: 'signed-webhook',
        match: { alertname: 'SignedHook' },
        steps: [
          {
            name: 'shift-traffic',
            action: 'http',
            retries: 2,
            timeout: '5s',
            params: { url: `${url}/shift`, body: '{"to":"{{labels.region}}"}', hmac: { secret: 'HOOK_KEY' } },
          },
        ],
      }),
    );
    const res = await m.postAlerts('firing', { alertname: 'SignedHook', service: 'lb', region: 'eu-west-1' });
    const id = await incidentIdFrom(res);
    const final = await m.waitFor(id, (s) => s.endedAt !== undefined, 60_000);
    expect(final.status).toBe('resolved');
    expect(seen).toHaveLength(2);
    expect(seen.every((x) => verify(x))).toBe(true);
    expect(seen[1]!.body).toBe('{"to":"eu-west-1"}');
    // The default backoff would retry after 1 s; Retry-After asked for 3.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(2_900);
    const history = await m.env.client.workflow.getHandle(id).fetchHistory();
    // Payloads come base64-encoded: decode each so the search sees the JSON the workflow wrote.
    const decoded = (k: string, v: unknown): unknown =>
      typeof v === 'string' && k === 'data' ? Buffer.from(v, 'base64').toString('utf8') : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v;
    const text = JSON.stringify(history, decoded);
    expect(text.includes('\\"secret\\":\\"HOOK_KEY\\"')).toBe(true); // the name is there (inside escaped JSON) …
    expect(text.includes(KEY)).toBe(false); // … the key is not
  });
});
