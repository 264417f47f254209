// Two more intake formats, normalized to medic's Alert: a documented generic JSON webhook (for
// scripts, CI, other monitors) and Grafana-managed alerting's webhook contact point.
import { z } from 'zod';
import { fromLabelledAlert, Labels, LabelledAlertSchema, type Alert } from './schemas.js';

/** POST /webhooks/generic — documented in README ("Generic webhook"). */
export const GenericWebhookSchema = z.strictObject({
  alerts: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(200),
        status: z.enum(['firing', 'resolved']).default('firing'),
        severity: z.string().min(1).max(50).default('warning'),
        labels: Labels.default({}),
        annotations: Labels.default({}),
        startsAt: z.iso.datetime({ offset: true }).optional(),
        fingerprint: z.string().max(200).optional(),
      }),
    )
    .min(1)
    .describe('At most intake.limits.maxAlertsPerRequest (checked after parsing: 413 naming the limit)'),
});
export type GenericWebhook = z.infer<typeof GenericWebhookSchema>;

/** Grafana alerting webhook contact point (payload version "1"). */
export const GrafanaWebhookSchema = z.object({
  version: z.literal('1'),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().default(''),
  groupKey: z.string().default(''),
  alerts: z
    .array(
      LabelledAlertSchema.extend({
        dashboardURL: z.string().optional(),
        panelURL: z.string().optional(),
        valueString: z.string().optional(),
      }),
    )
    .min(1)
    .describe('At most intake.limits.maxAlertsPerRequest (checked after parsing: 413 naming the limit)'),
});
export type GrafanaWebhook = z.infer<typeof GrafanaWebhookSchema>;

export function fromGeneric(payload: GenericWebhook, receivedAt: number): Alert[] {
  return payload.alerts.map((a) => ({
    status: a.status,
    alertname: a.name,
    severity: a.severity,
    labels: { ...a.labels, alertname: a.name, severity: a.severity },
    annotations: a.annotations,
    startsAt: a.startsAt ?? new Date(receivedAt).toISOString(),
    fingerprint: a.fingerprint ?? '',
    source: 'generic' as const,
    receivedAt,
  }));
}

export function fromGrafana(payload: GrafanaWebhook, receivedAt: number): Alert[] {
  return payload.alerts.map((a) =>
    fromLabelledAlert(a, 'grafana', receivedAt, {
      ...(a.dashboardURL ? { dashboardURL: a.dashboardURL } : {}),
      ...(a.valueString ? { values: a.valueString } : {}),
    }),
  );
}
