// The weekly digest's place in medic's config: where and when the report goes to Slack.
import { z } from 'zod';
import { DURATION_PATTERN } from '../playbooks/duration.js';

export const DigestSchema = z.strictObject({
  channel: z.string().min(1).optional().describe('Slack channel id (or #name) for the digest; default: slack.channel'),
  cron: z.string().min(9).default('0 9 * * 1').describe('When to post (cron: minute hour day-of-month month day-of-week); default Mondays 09:00'),
  timeZone: z.string().min(1).default('UTC').describe('IANA time zone the cron is read in'),
  period: z.string().regex(DURATION_PATTERN, 'a duration like 7d').default('7d').describe('The period each digest covers (compared with the one before it)'),
});
export type DigestConfig = z.infer<typeof DigestSchema>;
