// GET /api/incidents/:id/postmortem (operator token): the incident's postmortem as Markdown, from
// the incident store the server reads.
import type { FastifyInstance } from 'fastify';
import type { IncidentStore } from '../store/store.js';
import { loadPostmortem, PostmortemNotFound } from './load.js';
import { postmortemMarkdown, type PostmortemOptions } from './markdown.js';

export function postmortemRoute(ops: FastifyInstance, store: IncidentStore, opts: PostmortemOptions): void {
  ops.get('/api/incidents/:id/postmortem', async (req, reply) => {
    try {
      const data = await loadPostmortem(store, (req.params as { id: string }).id);
      return reply.type('text/markdown; charset=utf-8').send(postmortemMarkdown(data, opts));
    } catch (err) {
      if (err instanceof PostmortemNotFound) return reply.code(404).send({ error: err.message });
      throw err;
    }
  });
}
