// A simple health watcher for the embedded demo: polls a /healthz URL and posts firing/resolved
// alerts through medic's real Alertmanager intake (webhook v4 + bearer token), exactly as
// Alertmanager would. Real Prometheus + Alertmanager replace it in production.
import type { AlertmanagerWebhook } from '../src/intake/schemas.js';

export interface WatcherOptions {
  healthUrl: string;
  webhookUrl: string;
  token: string;
  labels: Record<string, string>;
  intervalMs?: number;
  /** Consecutive failures before firing (like Prometheus' `for:`). */
  failuresToFire?: number;
  onEvent?: (message: string) => void;
}

export function alertmanagerPayload(status: 'firing' | 'resolved', labels: Record<string, string>, startsAt: string): AlertmanagerWebhook {
  const now = new Date().toISOString();
  return {
    version: '4',
    groupKey: `{}:{alertname="${labels.alertname ?? ''}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'medic',
    groupLabels: { alertname: labels.alertname ?? '' },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://health-watcher.local',
    alerts: [
      {
        status,
        labels,
        annotations: { summary: `${labels.service ?? 'service'} health check failing` },
        startsAt,
        endsAt: status === 'resolved' ? now : '0001-01-01T00:00:00Z',
        generatorURL: 'http://health-watcher.local',
        fingerprint: '',
      },
    ],
  };
}

export function startHealthWatcher(o: WatcherOptions): { stop(): void } {
  const interval = o.intervalMs ?? 1_000;
  const needed = o.failuresToFire ?? 2;
  let failures = 0;
  let firingSince: string | undefined;
  let stopped = false;

  const post = async (status: 'firing' | 'resolved'): Promise<void> => {
    const res = await fetch(o.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
      body: JSON.stringify(alertmanagerPayload(status, o.labels, firingSince ?? new Date().toISOString())),
    });
    if (!res.ok) throw new Error(`intake answered ${res.status}: ${await res.text()}`);
    o.onEvent?.(`health watcher: ${o.labels.alertname} ${status} → medic (${res.status})`);
  };

  const tick = async (): Promise<void> => {
    let healthy = false;
    try {
      healthy = (await fetch(o.healthUrl, { signal: AbortSignal.timeout(interval) })).ok;
    } catch {
      healthy = false;
    }
    if (healthy) {
      failures = 0;
      if (firingSince) {
        await post('resolved');
        firingSince = undefined;
      }
      return;
    }
    failures += 1;
    if (failures === needed) {
      firingSince = new Date().toISOString();
      await post('firing');
    }
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      await tick().catch((err: unknown) => o.onEvent?.(`health watcher: ${(err as Error).message}`));
      await new Promise((r) => setTimeout(r, interval));
    }
  };
  void loop();
  return { stop: () => void (stopped = true) };
}
