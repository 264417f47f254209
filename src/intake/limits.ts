// Intake limits: what one request may carry, and how often a source may send. Alert data is
// hostile (docs/architecture.md): a request over a limit is refused whole (all-or-nothing: no
// alert of it reaches an incident) with a 413 naming the field, its size and the limit.
import { z } from 'zod';
import type { Alert } from './schemas.js';

const Count = z.coerce.number().int().min(1);

export const IntakeLimitsSchema = z
  .strictObject({
    requestsPerSecond: z.coerce
      .number()
      .positive()
      .default(50)
      .describe('Sustained webhook requests per second per source (per credential and per remote address, each a token bucket); over it: 429 with Retry-After'),
    burst: Count.default(200).describe('Requests a source may send at once before requestsPerSecond applies (the bucket size)'),
    maxSources: Count.default(10_000).describe('Sources (credentials + remote addresses) whose buckets are kept; the least recently seen is forgotten first'),
    maxAlertsPerRequest: Count.default(1_000).describe('Alerts in one webhook request; more: the request is refused (413)'),
    maxLabelsPerAlert: Count.default(64).describe('Labels on one alert (annotations are counted separately against the same limit)'),
    maxLabelNameBytes: Count.default(128).describe('Bytes (UTF-8) of one label or annotation name'),
    maxLabelBytes: Count.default(1_024).describe('Bytes (UTF-8) of one label value'),
    maxAnnotationBytes: Count.default(8_192).describe('Bytes (UTF-8) of one annotation value (summary, description, generator URL)'),
    maxOpenIncidentsPerPlaybook: Count.default(25).describe(
      'Open incidents one playbook may have; alerts of further new groups go to the playbook\'s one overflow incident (incident:<playbook>:overflow), which records and escalates them and never acts',
    ),
    maxFingerprintsPerIncident: Count.default(1_000).describe(
      'Distinct alert fingerprints an incident tracks (oldest resolved ones are evicted first; counts are kept)',
    ),
  })
  .describe('Intake limits (rate, request size, open incidents per playbook); defaults suit one Alertmanager cluster');
export type IntakeLimits = z.infer<typeof IntakeLimitsSchema>;
export const DEFAULT_INTAKE_LIMITS: IntakeLimits = IntakeLimitsSchema.parse({});

/** A zod error as the intake reports it (webhook 400 body, bus dead-letter reason): at most 20
 * issues, each naming its field (dotted path; `(body)` for the whole) and rule. */
export function zodIssues(error: z.ZodError): LimitIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
}

/** One reason a request is refused: the field (request path), what it was, and the limit. */
export interface LimitIssue {
  path: string;
  message: string;
}

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
/** Names in messages are attacker-chosen: shown shortened, never whole. */
const shown = (name: string): string => (name.length > 40 ? `${name.slice(0, 40)}…` : name);
const MAX_ISSUES = 20;

/** Every limit the alerts of one request break (at most 20 listed), or [] when within limits.
 * Alerts are checked after normalization; alert i is the request's alerts[i] in every format. */
export function checkAlertLimits(alerts: Alert[], l: IntakeLimits): LimitIssue[] {
  if (alerts.length > l.maxAlertsPerRequest) {
    return [{ path: 'alerts', message: `${alerts.length} alerts in one request; the limit is intake.limits.maxAlertsPerRequest = ${l.maxAlertsPerRequest}` }];
  }
  const issues: LimitIssue[] = [];
  const add = (path: string, message: string): boolean => {
    issues.push({ path, message });
    return issues.length >= MAX_ISSUES;
  };
  for (const [i, a] of alerts.entries()) {
    for (const [field, map, valueLimit, valueSetting] of [
      ['labels', a.labels, l.maxLabelBytes, 'maxLabelBytes'],
      ['annotations', a.annotations, l.maxAnnotationBytes, 'maxAnnotationBytes'],
    ] as const) {
      const entries = Object.entries(map);
      if (entries.length > l.maxLabelsPerAlert) {
        if (add(`alerts.${i}.${field}`, `${entries.length} ${field}; the limit is intake.limits.maxLabelsPerAlert = ${l.maxLabelsPerAlert}`)) return issues;
        continue;
      }
      for (const [name, value] of entries) {
        const n = bytes(name);
        if (n > l.maxLabelNameBytes) {
          if (add(`alerts.${i}.${field}`, `name \`${shown(name)}\` is ${n} bytes; the limit is intake.limits.maxLabelNameBytes = ${l.maxLabelNameBytes}`)) return issues;
          continue;
        }
        const v = bytes(value);
        if (v > valueLimit) {
          if (add(`alerts.${i}.${field}.${name}`, `value is ${v} bytes; the limit is intake.limits.${valueSetting} = ${valueLimit}`)) return issues;
        }
      }
    }
  }
  return issues;
}
