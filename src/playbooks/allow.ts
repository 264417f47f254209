// Which targets a playbook may act on. Values rendered from alert data (labels, annotations) are
// hostile: they may only pick targets that these allow-lists admit (docs/architecture.md,
// "Alert data is hostile"). One member per actuator, each defined beside that actuator's schema.
import { z } from 'zod';
import { AnsibleAllowSchema } from './ansible.js';
import { KubernetesAllowSchema } from './allow-kubernetes.js';
import { SsmAllowSchema } from './allow-ssm.js';

export const AllowSchema = z
  .strictObject({
    kubernetes: KubernetesAllowSchema.optional(),
    ssm: SsmAllowSchema.optional(),
    ansible: AnsibleAllowSchema.optional(),
  })
  .describe('Targets this playbook may act on; a target rendered from alert data outside these lists is refused');
export type Allow = z.infer<typeof AllowSchema>;
