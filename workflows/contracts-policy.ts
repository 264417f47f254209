// The OPA policy gate's verdict as it is recorded (timeline entry `gate.policy`, the audit log,
// `medic simulate`): a contract, so the typed timeline can carry it. The gate itself is in
// src/policy/opa.ts. Pure zod: bundled into the workflow sandbox.
import { z } from 'zod';

/** The gate's verdict, as the timeline, the audit log and `medic simulate` record it. */
export const PolicyVerdictSchema = z.strictObject({
  decision: z.string().describe('The rule asked (Data API path)'),
  backend: z.enum(['server', 'wasm', 'none']).describe('Who answered: an OPA server, the in-process Wasm bundle, or none (not configured)'),
  hash: z.string().optional().describe("sha256 of the policy's content (the Wasm bundle file, or the OPA server's modules); absent when OPA could not be read"),
  outcome: z.enum(['allow', 'deny', 'require_approval']),
  reasons: z.array(z.string()),
  approvers: z.array(z.string()).describe('Who may approve (require_approval)'),
  error: z
    .strictObject({ kind: z.enum(['unavailable', 'invalid']), message: z.string(), rule: z.string().describe('Which error rule gave the outcome') })
    .optional()
    .describe('OPA gave no usable answer; the outcome came from the error rule'),
  durationMs: z.number(),
});
export type PolicyVerdict = z.infer<typeof PolicyVerdictSchema>;
