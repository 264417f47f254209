// SSM targets a playbook may act on (instance ids, instance tags, document parameter values).
// Checked by the workflow (ids, patterns) and by the ssm activity (the instance's real tags,
// read from EC2 / SSM just before sending); see src/playbooks/ssm-guard.ts.
import { z } from 'zod';

/** An exact value or "~regex" (the whole value must match), as in match.labels. */
const Pattern = z
  .string()
  .min(1)
  .refine(
    (v) => {
      if (!v.startsWith('~')) return true;
      try {
        new RegExp(`^(?:${v.slice(1)})$`);
        return true;
      } catch {
        return false;
      }
    },
    { error: (i) => `invalid regular expression ${String(i.input)}` },
  );

export const SsmAllowSchema = z
  .strictObject({
    instanceIds: z
      .array(Pattern)
      .min(1)
      .optional()
      .describe('Instance ids an SSM step may act on: an exact id or "~regex" matching the whole id, e.g. ~i-0abc[0-9a-f]+'),
    instanceTags: z
      .record(z.string().regex(/^[\w .:+=@/-]{1,128}$/, 'must be an EC2 tag key'), z.array(z.string().min(1)).min(1))
      .optional()
      .describe(
        'Tags every instance must carry (each listed key, with one of its values), read from EC2 (i-…) or SSM (mi-…) just before sending; tag targets are narrowed to them. E.g. { medic-managed: ["true"] }',
      ),
    parameters: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a document parameter name'), z.array(Pattern).min(1))
      .optional()
      .describe('Document parameters whose values must each match one of these (exact or "~regex"), e.g. { DBClusterIdentifier: ["~orders-[a-z0-9-]+"] }'),
  })
  .refine((a) => a.instanceIds !== undefined || a.instanceTags !== undefined || a.parameters !== undefined, {
    message: 'allow.ssm needs instanceIds, instanceTags or parameters',
  })
  .describe('AWS SSM targets this playbook may act on; an instance must pass every list given (ids and tags)');
export type SsmAllow = z.infer<typeof SsmAllowSchema>;
