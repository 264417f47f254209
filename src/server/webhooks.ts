// Alert intake routes: Alertmanager webhook v4, Grafana alerting and a generic JSON webhook.
// Each is authenticated (bearer token, or an HMAC signature over the raw body with a timestamp
// against replay), zod-validated with a 4xx naming the bad field, and size-limited by Fastify.
import { createHmac } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { fromGeneric, fromGrafana, GenericWebhookSchema, GrafanaWebhookSchema } from '../intake/generic.js';
import { ingestAlerts, type IngestDeps } from '../intake/ingest.js';
import { AlertmanagerWebhookSchema, fromAlertmanager, type Alert } from '../intake/schemas.js';
import { bearer, sameSecret } from './auth.js';

export interface WebhookOptions {
  token: string;
  /** When set, a valid HMAC signature is accepted instead of the bearer token. */
  hmacSecret?: string;
  ingest: Omit<IngestDeps, 'log'>;
}

const MAX_SKEW_S = 300;

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

/** x-medic-signature: sha256=hex(HMAC(secret, `${x-medic-timestamp}.${body}`)); Grafana's
 * X-Grafana-Alerting-Signature is hex(HMAC(secret, [`${timestamp}:`] + body)). */
function signatureValid(req: FastifyRequest, secret: string): boolean {
  const body = req.rawBody ?? Buffer.alloc(0);
  const h = req.headers;
  const fresh = (ts: string | undefined): boolean => !!ts && /^\d+$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) <= MAX_SKEW_S;
  const hmac = (prefix: string): string => createHmac('sha256', secret).update(prefix).update(body).digest('hex');
  const medicSig = h['x-medic-signature'];
  if (typeof medicSig === 'string') {
    const ts = h['x-medic-timestamp'] as string | undefined;
    return fresh(ts) && sameSecret(medicSig, `sha256=${hmac(`${ts}.`)}`);
  }
  const grafanaSig = h['x-grafana-alerting-signature'];
  if (typeof grafanaSig === 'string') {
    const ts = h['x-grafana-alerting-signature-timestamp'] as string | undefined;
    if (ts !== undefined && !fresh(ts)) return false;
    return sameSecret(grafanaSig, hmac(ts !== undefined ? `${ts}:` : ''));
  }
  return false;
}

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

  const route = <S extends z.ZodType>(path: string, schema: S, normalize: (p: z.infer<S>, at: number) => Alert[], what: string): void => {
    app.post(path, async (req: FastifyRequest, reply: FastifyReply) => {
      const authed =
        sameSecret(bearer(req.headers.authorization), opts.token) || (opts.hmacSecret !== undefined && signatureValid(req, opts.hmacSecret));
      if (!authed) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="medic"').send({ error: 'invalid or missing bearer token or signature' });
      }
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        return reply.code(415).send({ error: 'content-type must be application/json' });
      }
      const parsed = schema.safeParse(req.body);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
        return reply.code(400).send({ error: `invalid ${what} payload`, issues });
      }
      const result = await ingestAlerts({ ...opts.ingest, log: req.log as unknown as Logger }, normalize(parsed.data, Date.now()));
      return reply.code(202).send(result);
    });
  };

  route('/webhooks/alertmanager', AlertmanagerWebhookSchema, fromAlertmanager, 'Alertmanager webhook');
  route('/webhooks/grafana', GrafanaWebhookSchema, fromGrafana, 'Grafana webhook');
  route('/webhooks/generic', GenericWebhookSchema, fromGeneric, 'generic webhook');
};
