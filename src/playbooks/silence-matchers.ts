// Alertmanager silence matchers built from an incident's grouping labels. The values come from
// alert labels, which are hostile: a matcher is always an exact, non-regex equality (a value like
// `.*` silences only the label value `.*`), label names must be Prometheus label names, values are
// bounded and free of control characters, and at least one matcher must be non-empty (Alertmanager
// refuses a silence whose matchers all match the empty string, and an all-empty silence would be
// far too wide). Re-validated after building, like every other rendered value (docs/architecture.md).
import { z } from 'zod';

export const MAX_MATCHER_VALUE = 1024;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// C0/C1 control characters and the Unicode line/paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export const SilenceMatcherSchema = z.strictObject({
  name: z.string().regex(LABEL_NAME, 'must be a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)'),
  value: z
    .string()
    .max(MAX_MATCHER_VALUE, `must be at most ${MAX_MATCHER_VALUE} characters`)
    .refine((v) => !CONTROL.test(v), { message: 'must not contain control characters' }),
  isRegex: z.literal(false).describe('Never a regex: label values are hostile'),
  isEqual: z.literal(true),
});
export type SilenceMatcher = z.infer<typeof SilenceMatcherSchema>;

export const SilenceMatchersSchema = z
  .array(SilenceMatcherSchema)
  .min(1)
  .refine((ms) => ms.some((m) => m.value !== ''), { message: 'at least one matcher must have a non-empty value' });

export type MatcherResult = { ok: true; matchers: SilenceMatcher[] } | { ok: false; reason: string };

/** Matchers for the grouping labels (alertname always included); refused with the field and rule. */
export function silenceMatchers(grouping: Record<string, string>): MatcherResult {
  const matchers = Object.entries(grouping)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value, isRegex: false as const, isEqual: true as const }));
  const r = SilenceMatchersSchema.safeParse(matchers);
  if (r.success) return { ok: true, matchers: r.data };
  const issue = r.error.issues[0]!;
  const at = typeof issue.path[0] === 'number' ? `matcher ${matchers[issue.path[0]]?.name ?? issue.path[0]}${issue.path[1] ? `.${String(issue.path[1])}` : ''}` : 'matchers';
  return { ok: false, reason: `silence refused: ${at}: ${issue.message}` };
}

/** The marker that ties a silence to its incident: found again by it after a retry or a crash. */
export const silenceMarker = (incidentId: string, purpose: 'medic' | 'snooze' = 'medic'): string => `[${purpose}:${incidentId}]`;
