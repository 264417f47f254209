// SSM targets a playbook may act on (instance ids, instance tags).
import { z } from 'zod';

export const SsmAllowSchema = z.strictObject({}).describe('AWS SSM targets this playbook may act on');
export type SsmAllow = z.infer<typeof SsmAllowSchema>;
