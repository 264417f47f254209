// Recorded alerts for `medic simulate`: JSON lines in any shape medic's intake takes (medic's own
// Alert, an Alertmanager webhook v4 payload, an Alertmanager API v2 alert), or the alerts an
// Alertmanager holds right now (GET /api/v2/alerts). Bad lines are reported with their number.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AlertmanagerWebhookSchema, AlertSchema, fromAlertmanager, fromLabelledAlert, type Alert } from '../intake/schemas.js';

const Labels = z.record(z.string(), z.string());

/** One alert as Alertmanager's API v2 returns it (gettableAlert). */
export const AlertmanagerApiAlertSchema = z.object({
  labels: Labels.refine((l) => typeof l.alertname === 'string' && l.alertname.length > 0, { message: 'labels.alertname is required' }),
  annotations: Labels.default({}),
  startsAt: z.string().min(1),
  endsAt: z.string().optional(),
  updatedAt: z.string().optional(),
  fingerprint: z.string().default(''),
  generatorURL: z.string().optional(),
  status: z.object({ state: z.enum(['active', 'suppressed', 'unprocessed']) }).optional(),
});
export type AlertmanagerApiAlert = z.infer<typeof AlertmanagerApiAlertSchema>;

export class AlertsInputError extends Error {}

const epoch = (iso: string | undefined, fallback: number): number => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) && t > 0 ? t : fallback;
};

export function fromAlertmanagerApi(a: AlertmanagerApiAlert, now: number): Alert {
  const ended = a.endsAt !== undefined && epoch(a.endsAt, Infinity) <= now;
  const receivedAt = epoch(a.updatedAt ?? a.startsAt, now);
  return fromLabelledAlert(
    { status: ended ? 'resolved' : 'firing', labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, fingerprint: a.fingerprint },
    'alertmanager',
    receivedAt,
    a.generatorURL ? { generatorURL: a.generatorURL } : {},
  );
}

/** Parses one JSON line into alerts; throws with what was wrong. */
export function parseRecordedLine(value: unknown, now: number): Alert[] {
  const asAlert = AlertSchema.safeParse(value);
  if (asAlert.success) return [asAlert.data];
  const obj = (value ?? {}) as { version?: unknown; receivedAt?: unknown };
  if (obj.version === '4') {
    const hook = AlertmanagerWebhookSchema.safeParse(value);
    if (!hook.success) throw new AlertsInputError(`Alertmanager webhook: ${issues(hook.error)}`);
    const at = typeof obj.receivedAt === 'number' ? obj.receivedAt : epoch(hook.data.alerts[0]?.startsAt, now);
    return fromAlertmanager(hook.data, at);
  }
  const api = AlertmanagerApiAlertSchema.safeParse(value);
  if (api.success) return [fromAlertmanagerApi(api.data, now)];
  throw new AlertsInputError(`not a medic alert, an Alertmanager webhook v4 payload or an Alertmanager API v2 alert (${issues(api.error)})`);
}

const issues = (e: z.ZodError): string => e.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ');

export function parseRecorded(text: string, source: string, now = Date.now()): Alert[] {
  const alerts: Alert[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    try {
      alerts.push(...parseRecordedLine(JSON.parse(line), now));
    } catch (err) {
      problems.push(`${source}:${i + 1}: ${(err as Error).message}`);
    }
  });
  if (problems.length > 0) throw new AlertsInputError(problems.join('\n'));
  if (alerts.length === 0) throw new AlertsInputError(`${source}: no alerts`);
  return alerts;
}

export async function readRecordedAlerts(path: string): Promise<Alert[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AlertsInputError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseRecorded(text, path);
}

/** Alerts an Alertmanager holds now (silenced and inhibited ones never reach medic: left out). */
export async function fetchAlertmanagerAlerts(baseUrl: string, fetchFn: typeof fetch = fetch, now = Date.now()): Promise<Alert[]> {
  const url = `${baseUrl.replace(/\/$/, '')}/api/v2/alerts?active=true&silenced=false&inhibited=false`;
  let res: Response;
  try {
    res = await fetchFn(url, { signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json' } });
  } catch (err) {
    throw new AlertsInputError(`cannot reach Alertmanager at ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new AlertsInputError(`Alertmanager ${url} answered ${res.status}`);
  const parsed = z.array(AlertmanagerApiAlertSchema).safeParse(await res.json());
  if (!parsed.success) throw new AlertsInputError(`Alertmanager ${url}: unexpected answer (${issues(parsed.error)})`);
  return parsed.data.filter((a) => a.status?.state !== 'suppressed').map((a) => fromAlertmanagerApi(a, now));
}
