// The metrics listener: /metrics (and /healthz) on an address of its own (metrics.host:port,
// default 127.0.0.1:9464), so the public listener that takes webhooks never serves it. With
// metrics.token set, Prometheus must send it as a bearer token here too.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import { bearer, sameSecret } from './auth.js';

export function buildMetricsServer(deps: { config: Pick<Config, 'metrics'>; registry: Registry; log: Logger }): FastifyInstance {
  const { registry } = deps;
  const token = deps.config.metrics.token;
  // Scrapes every few seconds are not worth a log line each: warnings and up (or quieter, as configured).
  const { values } = deps.log.levels;
  const level = (values[deps.log.level] ?? Infinity) > values.warn! ? deps.log.level : 'warn';
  const app = Fastify({ loggerInstance: deps.log.child({ component: 'metrics' }, { level }) as FastifyBaseLogger });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (req, reply) => {
    if (token !== undefined && !sameSecret(bearer(req.headers.authorization), token)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="medic-metrics"').send({ error: 'missing or wrong metrics token (metrics.token)' });
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return app;
}

/** Starts the metrics listener where config says; resolves to its URL. */
export async function listenMetrics(app: FastifyInstance, config: Pick<Config, 'metrics'>): Promise<string> {
  return app.listen({ host: config.metrics.host, port: config.metrics.port });
}
