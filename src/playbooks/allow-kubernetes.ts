// Kubernetes targets a playbook may act on (namespaces, name patterns, node selectors).
import { z } from 'zod';

export const KubernetesAllowSchema = z.strictObject({}).describe('Kubernetes targets this playbook may act on');
export type KubernetesAllow = z.infer<typeof KubernetesAllowSchema>;
