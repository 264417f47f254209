// Built-in detectors, for signals no alert rule covers yet: evaluated by medic against the
// Prometheus HTTP API on an interval. A detector that fires opens an incident exactly like an
// alert (same intake path), and its time to detect is recorded on the alert.
import { createPrometheusActivities } from '../../activities/prometheus.js';
import type { Alert } from '../intake/schemas.js';
import { toMs } from '../playbooks/duration.js';
import { allFiring, MadAnomalyDetector, ThresholdDetector } from './algorithms.js';
import type { Detector } from './schema.js';

export { DetectorSchema, type Detector } from './schema.js';

type Signal = { push(value: number): boolean; firing: boolean };

interface SeriesState {
  signal: Signal;
  labels: Record<string, string>;
  breachStartedAt?: number;
  firingSince?: number;
}

export interface DetectorRunnerOptions {
  detectors: Detector[];
  prometheusUrl: string;
  /** Hands alerts to the intake (ingestAlerts), exactly as a webhook would. */
  deliver: (alerts: Alert[]) => Promise<unknown>;
  fetch?: typeof globalThis.fetch;
  onError?: (detector: string, err: Error) => void;
}

const seriesKey = (labels: Record<string, string>): string =>
  JSON.stringify(Object.entries(labels).filter(([k]) => k !== '__name__').sort());

function makeSignal(d: Exclude<Detector, { kind: 'multi' }>): Signal {
  return d.kind === 'threshold' ? new ThresholdDetector(d.op, d.threshold, d.for) : new MadAnomalyDetector(d);
}

export function startDetectors(o: DetectorRunnerOptions): { stop(): void; evaluateOnce(): Promise<void> } {
  const probe = createPrometheusActivities({ fetch: o.fetch ?? fetch, baseUrl: o.prometheusUrl }).promqlProbe;
  const state = new Map<string, Map<string, SeriesState>>(); // detector → series → state

  const alert = (d: Detector, s: SeriesState, status: Alert['status'], value: number | undefined, now: number): Alert => {
    const labels: Record<string, string> = { ...s.labels, ...d.labels, alertname: d.name };
    return {
      status,
      alertname: d.name,
      severity: labels.severity ?? 'warning',
      labels,
      annotations: {
        detector: `${d.kind}: ${'query' in d ? d.query : d.all.join(' AND ')}`,
        ...(value !== undefined ? { value: String(value) } : {}),
        ...(s.breachStartedAt !== undefined ? { breachStartedAt: new Date(s.breachStartedAt).toISOString() } : {}),
        // time to detect: first breaching evaluation → firing
        ...(s.breachStartedAt !== undefined && s.firingSince !== undefined ? { ttdSeconds: String((s.firingSince - s.breachStartedAt) / 1000) } : {}),
      },
      startsAt: new Date(s.firingSince ?? now).toISOString(),
      fingerprint: '',
      source: 'detector',
      receivedAt: now,
    };
  };

  async function evaluate(d: Detector, now: number): Promise<Alert[]> {
    const series = state.get(d.name) ?? new Map<string, SeriesState>();
    state.set(d.name, series);
    const out: Alert[] = [];
    const transition = (s: SeriesState, firing: boolean, value: number | undefined): void => {
      if (firing && s.firingSince === undefined) {
        s.firingSince = now;
        out.push(alert(d, s, 'firing', value, now));
      } else if (!firing && s.firingSince !== undefined) {
        out.push(alert(d, s, 'resolved', value, now));
        s.firingSince = undefined;
        s.breachStartedAt = undefined;
      }
    };
    if (d.kind === 'multi') {
      // A multi detector fires per series key that every member detector is firing on.
      const members = d.all.map((name) => state.get(name) ?? new Map<string, SeriesState>());
      const keys = new Set(members.flatMap((m) => [...m.keys()]));
      for (const key of keys) {
        const agree = allFiring(members.map((m) => m.get(key)?.signal.firing ?? false));
        const s = series.get(key) ?? { signal: { push: () => agree, firing: agree }, labels: members.find((m) => m.has(key))!.get(key)!.labels };
        series.set(key, s);
        if (agree) s.breachStartedAt ??= now;
        transition(s, agree, undefined);
      }
      return out;
    }
    const r = await probe({ query: d.query, timeoutMs: 5_000 });
    for (const { labels, value } of r.values) {
      const key = seriesKey(labels);
      const s = series.get(key) ?? { signal: makeSignal(d), labels: Object.fromEntries(Object.entries(labels).filter(([k]) => k !== '__name__')) };
      series.set(key, s);
      const wasFiring = s.signal.firing;
      const firing = s.signal.push(value);
      const breaching = d.kind === 'threshold' ? (d.op === '>' ? value > d.threshold : value < d.threshold) : firing;
      if (breaching && !wasFiring) s.breachStartedAt ??= now;
      if (!breaching && !firing) s.breachStartedAt = undefined;
      transition(s, firing, value);
    }
    return out;
  }

  const last = new Map<string, number>();
  async function evaluateOnce(): Promise<void> {
    const now = Date.now();
    // Members before multi detectors, so a multi sees this round's states.
    const ordered = [...o.detectors].sort((a, b) => Number(a.kind === 'multi') - Number(b.kind === 'multi'));
    for (const d of ordered) {
      if (now - (last.get(d.name) ?? 0) < toMs(d.interval)) continue;
      last.set(d.name, now);
      try {
        const alerts = await evaluate(d, now);
        if (alerts.length > 0) await o.deliver(alerts);
      } catch (err) {
        o.onError?.(d.name, err as Error);
      }
    }
  }

  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await evaluateOnce();
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  void loop();
  return { stop: () => void (stopped = true), evaluateOnce };
}
