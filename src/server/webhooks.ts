// Alert intake routes: Alertmanager webhook v4, Grafana alerting and a generic JSON webhook.
// Each is rate-limited per source (its remote address before anything else, its credential once
// authenticated: 429 + Retry-After), authenticated (bearer token, or an HMAC signature over the
// raw body with a timestamp against replay), zod-validated with a 4xx naming the bad field,
// size-limited by Fastify, and checked against intake.limits (413 naming the field and the
// limit). A refused request is refused whole: no alert of it reaches an incident.
import { createHmac } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { fromGeneric, fromGrafana, GenericWebhookSchema, GrafanaWebhookSchema } from '../intake/generic.js';
import type { IntakeGuard } from '../intake/guard.js';
import { ingestAlerts, type IngestDeps, type IngestResult } from '../intake/ingest.js';
import { checkAlertLimits, zodIssues } from '../intake/limits.js';
import { AlertmanagerWebhookSchema, fromAlertmanager, type Alert } from '../intake/schemas.js';
import { bearer, sameSecret } from './auth.js';

export interface WebhookOptions {
  token: string;
  /** When set, a valid HMAC signature is accepted instead of the bearer token. */
  hmacSecret?: string;
  ingest: Omit<IngestDeps, 'log'>;
  /** Rate and size limits (config intake.limits), their counters and audit records. */
  guard: IntakeGuard;
}

const MAX_SKEW_S = 300;

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

/** x-medic-signature: sha256=hex(HMAC(secret, `${x-medic-timestamp}.${body}`)); Grafana's
 * X-Grafana-Alerting-Signature is hex(HMAC(secret, [`${timestamp}:`] + body)). Returns which
 * signature was valid (the source the credential's rate limit applies to), or undefined. */
function validSignature(req: FastifyRequest, secret: string): 'hmac-medic' | 'hmac-grafana' | undefined {
  const body = req.rawBody ?? Buffer.alloc(0);
  const h = req.headers;
  const fresh = (ts: string | undefined): boolean => !!ts && /^\d+$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) <= MAX_SKEW_S;
  const hmac = (prefix: string): string => createHmac('sha256', secret).update(prefix).update(body).digest('hex');
  const medicSig = h['x-medic-signature'];
  if (typeof medicSig === 'string') {
    const ts = h['x-medic-timestamp'] as string | undefined;
    return fresh(ts) && sameSecret(medicSig, `sha256=${hmac(`${ts}.`)}`) ? 'hmac-medic' : undefined;
  }
  const grafanaSig = h['x-grafana-alerting-signature'];
  if (typeof grafanaSig === 'string') {
    const ts = h['x-grafana-alerting-signature-timestamp'] as string | undefined;
    if (ts !== undefined && !fresh(ts)) return undefined;
    return sameSecret(grafanaSig, hmac(ts !== undefined ? `${ts}:` : '')) ? 'hmac-grafana' : undefined;
  }
  return undefined;
}

const addressOf = (req: FastifyRequest): string => `address ${req.ip}`;

export const webhookRoutes: FastifyPluginAsync<WebhookOptions> = async (app, opts) => {
  // Keep the raw bytes: HMAC signatures are computed over the body exactly as sent.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer;
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')));
    } catch {
      done(Object.assign(new Error('body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });

  const { guard } = opts;
  const tooMany = (reply: FastifyReply, source: string, retryAfterSeconds: number): FastifyReply =>
    reply.code(429).header('retry-after', String(retryAfterSeconds)).send({ error: guard.rateLimitMessage(source, retryAfterSeconds) });

  // The remote address's bucket first, before the body is read or any HMAC computed.
  app.addHook('onRequest', async (req, reply) => {
    const t = guard.take(addressOf(req), req.url);
    if (t.ok) return;
    req.log.warn({ source: addressOf(req) }, 'webhook request rate-limited');
    return tooMany(reply, addressOf(req), t.retryAfterSeconds);
  });

  const route = <S extends z.ZodType>(path: string, schema: S, normalize: (p: z.infer<S>, at: number) => Alert[], what: string): void => {
    app.post(path, async (req: FastifyRequest, reply: FastifyReply) => {
      const credential = sameSecret(bearer(req.headers.authorization), opts.token)
        ? 'bearer token'
        : opts.hmacSecret !== undefined
          ? validSignature(req, opts.hmacSecret)
          : undefined;
      if (!credential) {
        guard.counters.requests.inc({ outcome: 'unauthorized' });
        return reply.code(401).header('www-authenticate', 'Bearer realm="medic"').send({ error: 'invalid or missing bearer token or signature' });
      }
      const source = `credential ${credential}`;
      const t = guard.take(source, path);
      if (!t.ok) {
        req.log.warn({ source }, 'webhook request rate-limited');
        return tooMany(reply, source, t.retryAfterSeconds);
      }
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        guard.counters.requests.inc({ outcome: 'invalid' });
        return reply.code(415).send({ error: 'content-type must be application/json' });
      }
      const parsed = schema.safeParse(req.body);
      if (!parsed.success) {
        guard.counters.requests.inc({ outcome: 'invalid' });
        return reply.code(400).send({ error: `invalid ${what} payload`, issues: zodIssues(parsed.error) });
      }
      const alerts = normalize(parsed.data, Date.now());
      const over = checkAlertLimits(alerts, guard.limits);
      if (over.length > 0) {
        const who = `${source}, ${addressOf(req)}`;
        req.log.warn({ source: who, issues: over }, 'webhook request over intake limits refused');
        guard.refusedTooLarge(who, path, alerts.length, over);
        return reply.code(413).send({ error: `${what} over intake limits: refused whole, none of its ${alerts.length} alerts was accepted`, issues: over });
      }
      const result = await ingestAlerts({ ...opts.ingest, log: req.log as unknown as Logger }, alerts);
      guard.counters.requests.inc({ outcome: 'accepted' });
      countAlerts(guard, result);
      return reply.code(202).send(result);
    });
  };

  route('/webhooks/alertmanager', AlertmanagerWebhookSchema, fromAlertmanager, 'Alertmanager webhook');
  route('/webhooks/grafana', GrafanaWebhookSchema, fromGrafana, 'Grafana webhook');
  route('/webhooks/generic', GenericWebhookSchema, fromGeneric, 'generic webhook');
};

function countAlerts(guard: IntakeGuard, r: IngestResult): void {
  const sum = (xs: { alerts: number }[]): number => xs.reduce((n, x) => n + x.alerts, 0);
  guard.counters.alerts.inc({ outcome: 'delivered' }, sum(r.incidents));
  guard.counters.alerts.inc({ outcome: 'correlated' }, sum(r.correlated));
  guard.counters.alerts.inc({ outcome: 'overflowed' }, sum(r.overflowed));
  guard.counters.alerts.inc({ outcome: 'unmatched' }, r.unmatched + r.resolvedWithoutIncident);
}
