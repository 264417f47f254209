// Operator API for chaos drills: start one (operators), follow a run, and (admins) keep the
// Temporal Schedules of recurring game days.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DrillNotFoundError, DrillRefusedError, type DrillsApi } from '../drills/api.js';

// Five cron fields (or a @-shortcut): Temporal rejects the rest with a less helpful message.
const ScheduleBody = z.strictObject({
  cron: z.string().regex(/^(@(yearly|annually|monthly|weekly|daily|hourly)|(\S+\s+){4}\S+)$/, 'must be a cron expression of 5 fields (e.g. "0 10 * * 3") or @daily/@weekly/…'),
});

export function drillRoutes(api: DrillsApi, user: (req: FastifyRequest) => string) {
  const failure = (err: unknown): { code: number; error: string } | undefined => {
    if (err instanceof DrillNotFoundError) return { code: 404, error: err.message };
    if (err instanceof DrillRefusedError) return { code: 409, error: err.message };
    return undefined;
  };
  return {
    operator(ops: FastifyInstance): void {
      ops.post('/api/drills/:name', async (req, reply) => {
        try {
          return reply.code(202).send(await api.start((req.params as { name: string }).name, user(req)));
        } catch (err) {
          const f = failure(err);
          if (f) return reply.code(f.code).send({ error: f.error });
          throw err;
        }
      });
      ops.get('/api/drills/runs/:id', async (req, reply) => {
        try {
          return await api.run((req.params as { id: string }).id);
        } catch (err) {
          const f = failure(err);
          if (f) return reply.code(f.code).send({ error: f.error });
          throw err;
        }
      });
      ops.get('/api/drills/schedules', async () => ({ schedules: await api.schedules() }));
    },
    admin(admin: FastifyInstance): void {
      admin.post('/api/drills/:name/schedule', async (req, reply) => {
        const body = ScheduleBody.safeParse(req.body ?? {});
        if (!body.success) return reply.code(400).send({ error: body.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') });
        try {
          return await api.schedule((req.params as { name: string }).name, body.data.cron, user(req));
        } catch (err) {
          const f = failure(err);
          if (f) return reply.code(f.code).send({ error: f.error });
          throw err;
        }
      });
    },
  };
}
