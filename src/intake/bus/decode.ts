// One bus message → medic's alerts, with exactly the webhook's validation (src/server/webhooks.ts):
// the same zod schemas and normalizers, the same intake limits, the same issue list naming each
// field and rule. Alert data is hostile (docs/architecture.md); a message that fails any check is
// poison: the consumer dead-letters it with the reason and no alert of it reaches an incident.
//
// Accepted bodies (JSON): an Alertmanager webhook (version "4"), a Grafana webhook (version "1"),
// medic's generic webhook ({ alerts: [...] }), or a CloudEvent 1.0 in structured mode whose type
// names one of them and whose data is that payload (README "Event-bus intake").
import { z } from 'zod';
import { fromGeneric, fromGrafana, GenericWebhookSchema, GrafanaWebhookSchema } from '../generic.js';
import { checkAlertLimits, zodIssues, type IntakeLimits, type LimitIssue } from '../limits.js';
import { AlertmanagerWebhookSchema, fromAlertmanager, type Alert } from '../schemas.js';

export const FORMATS = {
  alertmanager: { schema: AlertmanagerWebhookSchema, normalize: fromAlertmanager, cloudEventType: 'dev.medic.alerts.alertmanager.v4' },
  grafana: { schema: GrafanaWebhookSchema, normalize: fromGrafana, cloudEventType: 'dev.medic.alerts.grafana.v1' },
  generic: { schema: GenericWebhookSchema, normalize: fromGeneric, cloudEventType: 'dev.medic.alerts.generic.v1' },
} as const;
export type BusFormat = keyof typeof FORMATS;

const CE_PREFIX = 'dev.medic.alerts.';

const CloudEventSchema = z.object({
  specversion: z.string(),
  id: z.string().min(1).max(256),
  source: z.string().min(1).max(1_024),
  type: z.string().min(1).max(256),
  datacontenttype: z.string().regex(/^application\/(cloudevents\+)?json\b/i, 'must be application/json').optional(),
  data: z.unknown(),
});

export type Decoded =
  | { ok: true; format: BusFormat; alerts: Alert[] }
  | { ok: false; reason: string; issues: LimitIssue[] };

const poison = (reason: string, issues: LimitIssue[] = []): Decoded => ({ ok: false, reason, issues });

/** Which payload a JSON body is, by its version field (what the webhook routes know by path). */
function formatOf(body: Record<string, unknown>): BusFormat | Decoded {
  if (!('version' in body)) return 'alerts' in body ? 'generic' : poison('unknown payload: expected an Alertmanager or Grafana webhook (with version), a generic { alerts: [...] } or a CloudEvent', [{ path: '(body)', message: 'no version, alerts or specversion field' }]);
  if (body.version === '4') return 'alertmanager';
  if (body.version === '1') return 'grafana';
  return poison(`unknown schema version ${JSON.stringify(body.version).slice(0, 40)}`, [{ path: 'version', message: 'must be "4" (Alertmanager webhook) or "1" (Grafana webhook)' }]);
}

/** Validates one message body; `delivery` (the message's id on its bus) is stamped on each alert. */
export function decodeBusMessage(data: Uint8Array, o: { limits: IntakeLimits; maxBytes: number; delivery: string; receivedAt: number }): Decoded {
  if (data.byteLength > o.maxBytes) {
    return poison('oversized message', [{ path: '(body)', message: `${data.byteLength} bytes; the limit is bus.maxMessageBytes = ${o.maxBytes}` }]);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return poison('malformed message: not valid JSON', [{ path: '(body)', message: 'not valid JSON' }]);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return poison('malformed message: not a JSON object', [{ path: '(body)', message: 'must be a JSON object' }]);
  let payload = body as Record<string, unknown>;
  let format: BusFormat | Decoded;
  if ('specversion' in payload) {
    const ce = CloudEventSchema.safeParse(payload);
    if (!ce.success) return poison('invalid CloudEvent', zodIssues(ce.error));
    if (ce.data.specversion !== '1.0') return poison(`unknown schema version: CloudEvents specversion ${JSON.stringify(ce.data.specversion).slice(0, 40)}`, [{ path: 'specversion', message: 'must be "1.0"' }]);
    const known = (Object.keys(FORMATS) as BusFormat[]).find((f) => FORMATS[f].cloudEventType === ce.data.type);
    if (!known) {
      const why = ce.data.type.startsWith(CE_PREFIX) ? 'unknown schema version' : 'unknown CloudEvent type';
      return poison(`${why}: ${ce.data.type.slice(0, 80)}`, [{ path: 'type', message: `must be one of ${Object.values(FORMATS).map((f) => f.cloudEventType).join(', ')}` }]);
    }
    if (typeof ce.data.data !== 'object' || ce.data.data === null) return poison('invalid CloudEvent: data must be the alert payload (JSON object)', [{ path: 'data', message: 'must be a JSON object' }]);
    payload = ce.data.data as Record<string, unknown>;
    format = known;
  } else {
    format = formatOf(payload);
  }
  if (typeof format !== 'string') return format;
  const { schema, normalize } = FORMATS[format];
  const parsed = schema.safeParse(payload);
  if (!parsed.success) return poison(`invalid ${format} payload`, zodIssues(parsed.error));
  const alerts = (normalize as (p: unknown, at: number) => Alert[])(parsed.data, o.receivedAt);
  const over = checkAlertLimits(alerts, o.limits);
  if (over.length > 0) return poison(`${format} payload over intake limits: none of its ${alerts.length} alerts was accepted`, over);
  return { ok: true, format, alerts: alerts.map((a) => ({ ...a, delivery: o.delivery })) };
}

/** The dead-letter reason: the reason and its issues, on one line, bounded (it travels as a header). */
export function deadLetterReason(d: Extract<Decoded, { ok: false }>): string {
  const text = [d.reason, ...d.issues.map((i) => `${i.path}: ${i.message}`)].join('; ').replace(/[\r\n]+/g, ' ');
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}
