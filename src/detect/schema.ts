// Detector configuration (the `detectors:` list in medic's YAML config): one zod schema.
import { z } from 'zod';
import { DURATION_PATTERN } from '../playbooks/duration.js';

const Labels = z.record(z.string(), z.string());
const Common = {
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'letters, digits and _ (it becomes the alertname)'),
  labels: Labels.default({}).describe('Added to the alert, e.g. severity, service'),
  interval: z.string().regex(DURATION_PATTERN).default('15s'),
};

export const DetectorSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('threshold'),
    ...Common,
    query: z.string().min(1),
    op: z.enum(['>', '<']),
    threshold: z.number(),
    for: z.number().int().min(1).default(3).describe('Consecutive breaching evaluations before firing'),
  }),
  z.strictObject({
    kind: z.literal('anomaly'),
    ...Common,
    query: z.string().min(1),
    window: z.number().int().min(10).default(240),
    minHistory: z.number().int().min(5).default(60),
    threshold: z.number().positive().default(6),
    consecutive: z.number().int().min(1).default(2),
    direction: z.enum(['up', 'down', 'both']).default('both'),
  }),
  z.strictObject({
    kind: z.literal('multi'),
    ...Common,
    all: z.array(z.string().min(1)).min(2).describe('Names of detectors that must all be firing'),
  }),
]);
export type Detector = z.infer<typeof DetectorSchema>;
