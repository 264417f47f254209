// Operator API: start a runbook (POST /api/runbooks/:name/run {"params": {…}}) as the token's
// operator, who must be listed in the runbook's `runners` by their operator user name (@groups in
// runners are Slack user groups: they apply to Slack users). Same parameter schema, same workflow,
// requested by the operator (so four-eyes steps exclude them) as `/medic run`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Runbook } from '../runbooks/schema.js';
import { checkParams, refuseRunner, startRunbook } from '../slack/runbooks.js';

const RunBody = z.strictObject({ params: z.record(z.string(), z.string().max(1000)).default({}) });
/** Operators are matched by name only: there is no Slack membership to look up for them. */
const listed = async (list: string[], user: string): Promise<boolean> => list.includes(user);

export function runbookRoutes(deps: { client: Client; taskQueue: string; log: Logger; runbooks: () => Runbook[] }, user: (req: FastifyRequest) => string) {
  return (ops: FastifyInstance): void => {
    ops.post('/api/runbooks/:name/run', async (req, reply) => {
      const name = (req.params as { name: string }).name;
      const rb = deps.runbooks().find((r) => r.name === name);
      if (!rb) return reply.code(404).send({ error: `no runbook "${name}" (runbooks: ${deps.runbooks().map((r) => r.name).join(', ') || 'none configured'})` });
      const refused = await refuseRunner(listed, rb, user(req));
      if (refused) return reply.code(403).send({ error: `${refused}; nothing was started` });
      const body = RunBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send({ error: body.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') });
      const check = checkParams(rb, body.data.params);
      if (!check.ok) return reply.code(400).send({ error: 'invalid parameters; nothing was started', issues: check.errors });
      const workflowId = await startRunbook({ ...deps, access: { allowed: listed } }, rb, check.params, user(req));
      return reply.code(202).send({ runbook: rb.name, workflowId, requestedBy: user(req) });
    });
  };
}
