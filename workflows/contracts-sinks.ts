// What the incident workflow keeps for its sinks between publishes: one typed object per sink.
// The workflow only stores and hands back what a sink returned; the sink parses it (zod) before use.
import { z } from 'zod';
import { ApprovalRequestSchema } from './contracts-timeline.js';

export const SlackRefsSchema = z
  .strictObject({
    channel: z.string().min(1).describe('Channel id of the incident root message.'),
    rootTs: z.string().min(1).describe('ts of the root message; the thread hangs off it.'),
    /** What the root message last showed (status, step, outcome): rewritten when it changes. */
    rootKey: z.string(),
    permalink: z.string().optional().describe('Link to the thread, for pages, the store and the audit log.'),
    /** Highest timeline seq already in the thread (-1: none). */
    seq: z.number().int().min(-1),
    /** The incident graph: the uploaded file id, or "none" when there was nothing to draw. */
    graph: z.string().optional(),
    /** Approval requests whose message still carries buttons. */
    approvals: z.array(z.strictObject({ ts: z.string(), request: ApprovalRequestSchema, approvals: z.number().int().min(0) })),
    /** Take-it requests (slack-group rungs) whose message still carries the button. */
    takes: z.array(z.strictObject({ ts: z.string(), rung: z.number().int().min(0), group: z.string(), since: z.number(), until: z.number() })),
    /** Routine entries kept out of the thread by a summary or quiet verbosity: how many, and the
     * latest (shown on the root message; the store, audit log and `medic status` have them all). */
    routine: z.strictObject({ count: z.number().int().min(0), last: z.string(), at: z.number() }).optional(),
    /** The escalation ladder message and what it last showed. */
    ladder: z.strictObject({ ts: z.string(), key: z.string() }).optional(),
  })
  .describe("The incident's Slack messages: where they are, and which still carry buttons.");
export type SlackRefs = z.infer<typeof SlackRefsSchema>;

export const SinkRefsSchema = z.strictObject({ slack: SlackRefsSchema.optional() });
/** Kept in workflow state (IncidentState.sinkRefs) and passed back on every publish. */
export type SinkRefs = z.infer<typeof SinkRefsSchema>;
