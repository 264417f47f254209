// Chaos drills: scenarios (YAML in drills/) and the targets a drill may break. A target must be
// marked `drillable: true` in medic's config, so a scenario alone can never aim at anything.
import { z } from 'zod';
import { Duration } from '../playbooks/schema.js';

const Name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (max 63)');
const SecretName = z.string().regex(/^[A-Za-z0-9_]+$/, 'must be a secret name (letters, digits, _)');

export const DrillTargetSchema = z.discriminatedUnion('kind', [
  z
    .strictObject({
      kind: z.literal('demo-service'),
      url: z.url({ protocol: /^https?$/ }),
      tokenSecret: SecretName.optional().describe('Secret with the bearer token of its /admin API (MEDIC_SECRET_<NAME>)'),
      drillable: z.boolean().default(false),
    })
    .describe('The demo service: faults through its fault switch'),
  z
    .strictObject({
      kind: z.literal('ssm-instance'),
      instanceId: z.string().regex(/^(i|mi)-[0-9a-f]+$/, 'must be an EC2 or managed instance id'),
      drillable: z.boolean().default(false),
    })
    .describe('An EC2 / managed instance: faults through SSM Run Command'),
  z
    .strictObject({
      kind: z.literal('kubernetes-deployment'),
      namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name').default('default'),
      name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Deployment name'),
      drillable: z.boolean().default(false),
    })
    .describe("A Deployment: faults through the Kubernetes API (the worker's Kubernetes credentials)"),
]);
export type DrillTarget = z.infer<typeof DrillTargetSchema>;

export const DrillsConfigSchema = z.strictObject({
  paths: z.array(z.string().min(1)).default(['drills']).describe('Drill scenario files or directories of YAML'),
  targets: z.record(Name, DrillTargetSchema).default({}).describe('What drills may break; each must say drillable: true'),
});
export type DrillsConfig = z.infer<typeof DrillsConfigSchema>;

export const DrillFaultSchema = z.discriminatedUnion('kind', [
  z
    .strictObject({
      kind: z.literal('demo-fault'),
      fault: z.enum(['outage', 'stubborn', 'broken-remediation', 'latency', 'errors']).describe('outage = the service stops answering /healthz'),
      latencyMs: z.number().int().min(0).max(60_000).optional(),
    })
    .describe("Flip the demo service's fault switch"),
  z
    .strictObject({
      kind: z.literal('ssm-fill-disk'),
      path: z.string().regex(/^\/[A-Za-z0-9._/-]+$/, 'must be an absolute path').default('/var/tmp/medic-drill.fill'),
      sizeMb: z.number().int().min(1).max(1_000_000).default(1024),
    })
    .describe('Fill a disk on the instance: fallocate through AWS-RunShellScript'),
  z.strictObject({ kind: z.literal('k8s-scale-to-zero') }).describe('Scale the Deployment to zero replicas (reverted to the count before)'),
  z.strictObject({ kind: z.literal('k8s-delete-pod') }).describe("Delete one of the Deployment's pods (its ReplicaSet replaces it)"),
]);
export type DrillFault = z.infer<typeof DrillFaultSchema>;

export const DrillScenarioSchema = z.strictObject({
  name: Name,
  description: z.string().default(''),
  target: Name.describe('A target from the config (drills.targets) marked drillable'),
  fault: DrillFaultSchema,
  expect: z
    .strictObject({
      playbook: Name.describe('The playbook that should take the incident'),
      outcome: z.enum(['resolved', 'escalated']).default('resolved').describe('resolved = medic heals it by itself'),
    })
    .describe('What medic should do'),
  detectWithin: Duration.default('2m').describe('The incident must open this soon after the fault'),
  deadline: Duration.default('5m').describe('Pass only when the expected outcome is reached this soon after the fault (MTTR budget)'),
  revert: z.boolean().default(true).describe('Remove the fault afterwards if medic did not (always, when the drill fails)'),
});
export type DrillScenario = z.infer<typeof DrillScenarioSchema>;
