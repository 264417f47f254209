// Payload schemas for alert intake. Alertmanager webhook v4 is documented at
// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config.
import { z } from 'zod';

export const Labels = z.record(z.string(), z.string());

/** What Alertmanager's and Grafana's alerts share: alertname (and severity) are labels. */
export const LabelledAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: Labels.refine((l) => typeof l.alertname === 'string' && l.alertname.length > 0, {
    message: 'labels.alertname is required',
  }),
  annotations: Labels.default({}),
  startsAt: z.string().min(1).max(64),
  fingerprint: z.string().max(256).default(''),
});

export const AlertmanagerAlertSchema = LabelledAlertSchema.extend({
  endsAt: z.string().max(64).default('0001-01-01T00:00:00Z'),
  generatorURL: z.string().default(''),
});

export const AlertmanagerWebhookSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string().min(1),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: Labels.default({}),
  commonLabels: Labels.default({}),
  commonAnnotations: Labels.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(AlertmanagerAlertSchema).min(1).describe('At most intake.limits.maxAlertsPerRequest (checked after parsing: 413 naming the limit)'),
});
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhookSchema>;

// One alert as medic carries it into a workflow: a contract (workflows/contracts.ts).
export { AlertSchema, type Alert } from '../../workflows/contracts.js';
import type { Alert } from '../../workflows/contracts.js';

/** An alert whose labels carry alertname/severity (Alertmanager, Grafana) as medic's Alert. */
export function fromLabelledAlert(
  a: { status: Alert['status']; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; fingerprint: string },
  source: Alert['source'],
  receivedAt: number,
  extraAnnotations: Record<string, string> = {},
): Alert {
  return {
    status: a.status,
    alertname: a.labels.alertname ?? '',
    severity: a.labels.severity ?? 'none',
    labels: a.labels,
    annotations: { ...a.annotations, ...extraAnnotations },
    startsAt: a.startsAt,
    fingerprint: a.fingerprint,
    source,
    receivedAt,
  };
}

export function fromAlertmanager(payload: AlertmanagerWebhook, receivedAt: number): Alert[] {
  // Links for humans (Prometheus graph, Alertmanager silence); the graph's expression comes
  // from the generator URL.
  const notification = { group: groupHash(payload.groupKey), truncatedAlerts: payload.truncatedAlerts };
  return payload.alerts.map((a) => ({
    ...fromLabelledAlert(a, 'alertmanager', receivedAt, {
      ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
      ...(payload.externalURL ? { silenceURL: silenceUrl(payload.externalURL, a.labels) } : {}),
    }),
    notification,
  }));
}

/** A short stable id of an Alertmanager group key (FNV-1a: no crypto needed, not a secret). */
export function groupHash(groupKey: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < groupKey.length; i++) h = Math.imul(h ^ groupKey.charCodeAt(i), 0x01000193) >>> 0;
  return `g${h.toString(16).padStart(8, '0')}`;
}

/** Alertmanager's "new silence" page pre-filled with the alert's labels. */
export function silenceUrl(externalURL: string, labels: Record<string, string>): string {
  const matchers = Object.entries(labels)
    .filter(([k]) => k === 'alertname' || k === 'service' || k === 'instance')
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return `${externalURL.replace(/\/$/, '')}/#/silences/new?filter=${encodeURIComponent(`{${matchers}}`)}`;
}

/** The PromQL expression of a Prometheus alert, from its generator URL (…/graph?g0.expr=…). */
export function expressionOf(generatorURL: string | undefined): string | undefined {
  if (!generatorURL) return undefined;
  try {
    return new URL(generatorURL).searchParams.get('g0.expr') ?? undefined;
  } catch {
    return undefined;
  }
}
