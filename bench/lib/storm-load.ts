// The storm curve's load generator, run as its own process (bench/lib/storm-curve.ts spawns it) so
// that sending does not share an event loop with the intake it measures — as Alertmanager would.
// Open loop: POSTs are started on schedule at the offered rate whatever the responses take, up to
// maxInFlight at once (past that a POST starts late, and the lag is reported). No retries: a
// refused POST is counted, not resent, so accepted alerts/s is what the intake sustained.
// Input: env STORM_LOAD (JSON, LoadSpec). Output: one JSON line (LoadResult) on stdout.
import { alertmanagerPayload } from '../../dev/health-watcher.js';

export interface LoadSpec {
  url: string;
  token: string;
  alertname: string;
  /** Alerts per second offered. */
  rate: number;
  seconds: number;
  /** Alerts per POST: 1, or an Alertmanager-style group notification of many. */
  batch: number;
  /** Incidents of this point: service `${prefix}${k}`, k < incidents. */
  incidents: number;
  prefix: string;
  /** Distinct alerts (instances) per incident: repeats of these are re-notifications. */
  fingerprints: number;
  /** Incidents one batched POST covers (Alertmanager grouping by alertname: several services). */
  incidentsPerPost: number;
  maxInFlight: number;
}

export interface LoadResult {
  posts: number;
  alerts: number;
  acceptedAlerts: number;
  statuses: Record<string, number>;
  /** Alerts in accepted POSTs, per service. */
  acceptedByService: Record<string, number>;
  /** POST → response, accepted or not (ms). */
  latencies: number[];
  /** How late POSTs started behind their schedule (ms; the generator or maxInFlight lagging). */
  lagP99Ms: number;
  elapsedSeconds: number;
}

/** The services and instances of POST k: `incidentsPerPost` incidents, batch alerts spread over them. */
export function postAlerts(spec: LoadSpec, k: number): { service: string; instance: string }[] {
  const perPost = Math.min(spec.incidentsPerPost, spec.batch, spec.incidents);
  return Array.from({ length: spec.batch }, (_, j) => {
    const incident = (k * perPost + (j % perPost)) % spec.incidents;
    const n = k * spec.batch + j;
    return { service: `${spec.prefix}${incident}`, instance: `host-${n % spec.fingerprints}` };
  });
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const posts = Math.round((spec.rate * spec.seconds) / spec.batch);
  const spacing = (spec.batch / spec.rate) * 1000;
  const latencies: number[] = [];
  const lags: number[] = [];
  const statuses: Record<string, number> = {};
  const acceptedByService: Record<string, number> = {};
  let acceptedAlerts = 0;
  let inFlight = 0;
  const startsAt = new Date().toISOString();
  const bodies = (k: number): { body: string; services: string[] } => {
    const alerts = postAlerts(spec, k);
    const payloads = alerts.map((a) => alertmanagerPayload('firing', { alertname: spec.alertname, ...a }, startsAt));
    const body = { ...payloads[0]!, commonLabels: { alertname: spec.alertname }, alerts: payloads.map((p) => p.alerts[0]!) };
    return { body: JSON.stringify(body), services: alerts.map((a) => a.service) };
  };
  const send = async (k: number, due: number): Promise<void> => {
    const { body, services } = bodies(k);
    const t0 = performance.now();
    lags.push(t0 - due);
    let status = 'error';
    try {
      const res = await fetch(`${spec.url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${spec.token}` }, body });
      await res.arrayBuffer();
      status = String(res.status);
    } catch (err) {
      status = `error: ${(err as Error).message}`;
    }
    latencies.push(performance.now() - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === '202') {
      acceptedAlerts += services.length;
      for (const s of services) acceptedByService[s] = (acceptedByService[s] ?? 0) + 1;
    }
  };
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  for (let k = 0; k < posts; ) {
    const due = start + k * spacing;
    const now = performance.now();
    if (due > now) {
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(due - now, 50))));
      continue;
    }
    if (inFlight >= spec.maxInFlight) {
      await Promise.race(pending);
      continue;
    }
    inFlight += 1;
    const p: Promise<void> = send(k, due).finally(() => {
      inFlight -= 1;
      pending.delete(p);
    });
    pending.add(p);
    k += 1;
  }
  await Promise.all(pending);
  const elapsedSeconds = (performance.now() - start) / 1000;
  lags.sort((a, b) => a - b);
  return {
    posts,
    alerts: posts * spec.batch,
    acceptedAlerts,
    statuses,
    acceptedByService,
    latencies,
    lagP99Ms: lags[Math.min(lags.length - 1, Math.ceil(0.99 * lags.length) - 1)] ?? 0,
    elapsedSeconds,
  };
}

if (process.env.STORM_LOAD) {
  run(JSON.parse(process.env.STORM_LOAD) as LoadSpec).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
