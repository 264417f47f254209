// A Bolt receiver living on medic's own Fastify server (POST /slack/events), so Slack needs no
// second port. It refuses, before Bolt sees anything: a missing or wrong v0 signature, a
// timestamp more than 5 minutes off, and a request it has already accepted (a replay within the
// window, which the timestamp check alone would let through).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';

export const SLACK_EVENTS_PATH = '/slack/events';
const MAX_AGE_S = 5 * 60;
/** Slack gives up on an unacknowledged request after 3 seconds. */
const ACK_TIMEOUT_MS = 3_000;

export class FastifyReceiver implements Receiver {
  private bolt?: App;
  private readonly seen = new Map<string, number>();

  constructor(private readonly o: { signingSecret: string; log: Logger; now?: () => number }) {}

  init(app: App): void {
    this.bolt = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Why the request must be refused, or undefined. */
  verify(body: string, timestampHeader: unknown, signatureHeader: unknown): string | undefined {
    const nowS = Math.floor((this.o.now?.() ?? Date.now()) / 1000);
    if (typeof timestampHeader !== 'string' || typeof signatureHeader !== 'string') return 'missing Slack signature headers';
    const ts = Number(timestampHeader);
    if (!Number.isInteger(ts) || Math.abs(nowS - ts) > MAX_AGE_S) return 'stale or invalid request timestamp';
    const expected = Buffer.from(`v0=${createHmac('sha256', this.o.signingSecret).update(`v0:${ts}:${body}`).digest('hex')}`);
    const given = Buffer.from(signatureHeader);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid signature';
    for (const [sig, expires] of this.seen) if (expires < nowS) this.seen.delete(sig);
    if (this.seen.has(signatureHeader)) return 'replayed request';
    this.seen.set(signatureHeader, ts + MAX_AGE_S);
    return undefined;
  }

  /** Fastify plugin: register on the server. Bodies stay raw strings here (the signature covers the raw bytes). */
  readonly plugin = async (f: FastifyInstance): Promise<void> => {
    f.removeAllContentTypeParsers();
    f.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    f.post(SLACK_EVENTS_PATH, async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const refused = this.verify(raw, req.headers['x-slack-request-timestamp'], req.headers['x-slack-signature']);
      if (refused) {
        req.log.warn({ reason: refused }, 'Slack request refused');
        return reply.code(401).send({ error: refused });
      }
      let body: Record<string, unknown>;
      try {
        body = parseBody(raw, req.headers['content-type'] ?? '');
      } catch {
        return reply.code(400).send({ error: 'unparseable Slack payload' });
      }
      if (body.type === 'url_verification') return reply.send({ challenge: body.challenge });
      if (body.ssl_check) return reply.send('');
      return this.dispatch(body, reply, typeof req.headers['x-slack-retry-num'] === 'string' ? Number(req.headers['x-slack-retry-num']) : undefined);
    });
  };

  private async dispatch(body: Record<string, unknown>, reply: FastifyReply, retryNum?: number): Promise<FastifyReply> {
    const bolt = this.bolt;
    if (!bolt) return reply.code(503).send({ error: 'Slack app not initialised' });
    let acked = false;
    let answer!: (r: { body?: unknown } | 'unhandled' | 'failed') => void;
    const answered = new Promise<{ body?: unknown } | 'unhandled' | 'failed'>((r) => (answer = r));
    const event: ReceiverEvent = {
      body,
      ...(retryNum !== undefined ? { retryNum } : {}),
      ack: async (response?: unknown) => {
        if (acked) throw new Error('this Slack request was already acknowledged');
        acked = true;
        answer({ body: response });
      },
    };
    // Listeners go on after ack(): processEvent settles later, and its errors are only logged.
    const processing = bolt.processEvent(event).then(
      () => answer('unhandled'),
      (err: unknown) => {
        this.o.log.error({ err }, 'Slack listener failed');
        answer('failed');
      },
    );
    const timer = setTimeout(() => answer('unhandled'), ACK_TIMEOUT_MS);
    const result = await answered;
    clearTimeout(timer);
    void processing;
    if (result === 'failed') return reply.code(500).send({ error: 'listener failed' });
    if (result === 'unhandled') return reply.code(404).send({ error: 'no listener acknowledged this request' });
    if (result.body === undefined || result.body === '') return reply.code(200).send('');
    if (typeof result.body === 'string') return reply.code(200).type('text/plain').send(result.body);
    return reply.code(200).send(result.body);
  }
}

function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const form = new URLSearchParams(raw);
  const payload = form.get('payload');
  // Interactions arrive as payload=<json>; slash commands as plain form fields.
  return payload !== null ? (JSON.parse(payload) as Record<string, unknown>) : Object.fromEntries(form);
}
