// Alertmanager API v2 silences tied to an incident: create or extend (one silence per incident and
// purpose, found again by the marker in its comment, so a retried or repeated call never makes a
// second one), and expire. Factory over fetch and the Alertmanager base URL, so tests use the real
// provisioned Alertmanager. A 4xx is permanent (AlertmanagerRejected); 5xx and network errors
// are retried by the activity's retry policy.
import { ApplicationFailure } from '@temporalio/activity';
import { silenceMarker, SilenceMatchersSchema, type SilenceMatcher } from '../src/playbooks/silence-matchers.js';

export interface AlertmanagerDeps {
  fetch: typeof globalThis.fetch;
  /** Alertmanager base URL (config alertmanager.url); absent: silences fail as not configured. */
  baseUrl?: string;
  timeoutMs?: number;
}

export type SilencePurpose = 'medic' | 'snooze';

export interface EnsureSilenceInput {
  incidentId: string;
  purpose: SilencePurpose;
  matchers: SilenceMatcher[];
  /** Epoch ms the silence ends (extended by calling again with a later one). */
  endsAt: number;
  /** Who the silence is by: `medic`, or the Slack user who snoozed. */
  createdBy: string;
  /** Human text; the incident marker is appended. */
  comment: string;
}
export interface EnsureSilenceResult {
  id: string;
  endsAt: number;
  /** false: an existing silence of this incident was extended. */
  created: boolean;
}
export interface ExpireSilencesInput {
  incidentId: string;
  purpose: SilencePurpose;
}
export interface ExpireSilencesResult {
  expired: string[];
}

/** One silence as GET /api/v2/silences returns it (the fields read here). */
export interface AlertmanagerSilence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' };
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

export function createAlertmanagerActivities(deps: AlertmanagerDeps) {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const base = (): string => {
    if (!deps.baseUrl) throw ApplicationFailure.create({ type: 'NoAlertmanager', nonRetryable: true, message: 'no Alertmanager URL: set MEDIC_ALERTMANAGER_URL (config alertmanager.url)' });
    return deps.baseUrl.replace(/\/$/, '');
  };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await deps.fetch(`${base()}${path}`, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      if (err instanceof ApplicationFailure) throw err;
      throw new Error(`Alertmanager ${method} ${path} failed: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    if (res.status >= 400 && res.status < 500) {
      throw ApplicationFailure.create({ type: 'AlertmanagerRejected', nonRetryable: true, message: `Alertmanager refused ${method} ${path}: ${res.status} ${text.slice(0, 300)}` });
    }
    if (!res.ok) throw new Error(`Alertmanager ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  /** This incident's silences of this purpose that are not expired. */
  const mine = async (incidentId: string, purpose: SilencePurpose): Promise<AlertmanagerSilence[]> => {
    const marker = silenceMarker(incidentId, purpose);
    const all = await call<AlertmanagerSilence[]>('GET', '/api/v2/silences');
    return all.filter((s) => s.status.state !== 'expired' && s.comment.includes(marker));
  };

  async function ensureSilence(input: EnsureSilenceInput): Promise<EnsureSilenceResult> {
    // Re-validated here: whatever built the matchers, a regex or an empty silence never leaves.
    const checked = SilenceMatchersSchema.safeParse(input.matchers);
    if (!checked.success) {
      throw ApplicationFailure.create({ type: 'SilenceRefused', nonRetryable: true, message: `silence refused: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
    }
    const existing = (await mine(input.incidentId, input.purpose))[0];
    const endsAt = new Date(input.endsAt).toISOString();
    const comment = `${input.comment} ${silenceMarker(input.incidentId, input.purpose)}`.slice(-2000);
    const body = {
      ...(existing ? { id: existing.id, startsAt: existing.startsAt } : { startsAt: new Date().toISOString() }),
      matchers: checked.data,
      endsAt,
      createdBy: input.createdBy,
      comment,
    };
    const { silenceID } = await call<{ silenceID: string }>('POST', '/api/v2/silences', body);
    return { id: silenceID, endsAt: input.endsAt, created: !existing };
  }

  async function expireSilences(input: ExpireSilencesInput): Promise<ExpireSilencesResult> {
    const expired: string[] = [];
    for (const s of await mine(input.incidentId, input.purpose)) {
      try {
        await call('DELETE', `/api/v2/silence/${encodeURIComponent(s.id)}`);
      } catch (err) {
        // Expired meanwhile (by a person, or an earlier try of this call): nothing left to do.
        if (!(err instanceof ApplicationFailure && err.type === 'AlertmanagerRejected')) throw err;
      }
      expired.push(s.id);
    }
    return { expired };
  }

  return { ensureSilence, expireSilences };
}
