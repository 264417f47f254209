// Playbook fields for what an on-call engineer sees around the incident: Alertmanager silences
// tied to it (and the Snooze button), how many targets it really covers, and how chatty its Slack
// thread is. Kept apart from schema.ts so those features stay in their own modules.
import { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';

const Duration = z.string().regex(DURATION_PATTERN, 'must be a duration like 500ms, 30s, 5m, 1h or 2d');

export const SilenceSettingsSchema = z
  .strictObject({
    duration: Duration.default('15m').describe(
      "How long each silence of medic's own lasts; extended (by this much) while medic still acts or verifies, expired when the incident resolves or escalates",
    ),
    snooze: z
      .array(Duration)
      .min(1)
      .max(5)
      .default(['1h', '4h'])
      .describe("The Snooze button's choices: a silence of the incident's alerts for this long, by whoever clicked (they must be allowed to approve a step of the playbook)"),
  })
  .describe(
    "Silence the incident's alerts in Alertmanager (API v2, config alertmanager.url) while medic acts and verifies; matchers are the playbook's groupBy labels (exact, never regex), the comment links the incident, createdBy is medic",
  );
export type SilenceSettings = z.infer<typeof SilenceSettingsSchema>;

export const ScopeSettingsSchema = z
  .strictObject({
    targetLabels: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'Labels naming what one alert is about (e.g. [instance] or [namespace, pod]): distinct values among its alerts are the targets the incident covers. Alerts Alertmanager left out of a capped notification (truncatedAlerts, max_alerts) each count as a possible further target. A step whose blastRadius is below that count is blocked and the incident escalates',
      ),
  })
  .describe("How the incident's true scope (alerts and distinct targets) is counted for the root message, the page and the blast-radius gate");
export type ScopeSettings = z.infer<typeof ScopeSettingsSchema>;

export const VERBOSITIES = ['full', 'summary', 'quiet'] as const;
export const VerbositySchema = z
  .enum(VERBOSITIES)
  .describe(
    'Slack thread verbosity: full = every timeline entry as a thread reply; summary = routine entries (alerts received, gates passed, locks, actions started, verification started, silences) only update the root message, the rest are replies; quiet = only approvals, failures, escalation and the resolution are replies. The store, audit log and `medic status` always keep the full record',
  );
export type Verbosity = z.infer<typeof VerbositySchema>;
