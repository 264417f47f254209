// Contracts of the weekly digest workflow (started by a Temporal Schedule, src/digest/schedule.ts).
import { z } from 'zod';

export const DIGEST_WORKFLOW = 'digestWorkflow';

export const DigestInputSchema = z.object({
  periodMs: z.number().int().positive().describe('Length of the period the digest covers, in ms (compared with the period before it).'),
  channel: z.string().min(1).optional().describe("Slack channel; default: the worker's digest channel."),
});
export type DigestInput = z.infer<typeof DigestInputSchema>;

export const DigestPostInputSchema = DigestInputSchema.extend({
  to: z.number().describe("End of the period (epoch ms): the run's start, fixed so a retry reports the same period."),
  key: z.string().min(1).describe("Idempotency key: the scheduled run's workflow id."),
});
export type DigestPostInput = z.infer<typeof DigestPostInputSchema>;

export const DigestPostResultSchema = z.object({
  channel: z.string(),
  ts: z.string(),
  incidents: z.number().int().min(0),
  slos: z.number().int().min(0),
});
export type DigestPostResult = z.infer<typeof DigestPostResultSchema>;
