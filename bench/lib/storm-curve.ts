// `npm run bench:storm -- --curve`: the intake's knee. For each offered rate and each shape (one
// alert per POST; Alertmanager-style group notifications of many alerts), a load generator process
// (storm-load.ts) offers the rate for a fixed time against the running intake; then every accepted
// alert is looked for in its incident's alertsReceived (lost must be 0). Each point gets incidents
// of its own. The knee of a shape: the highest offered rate sustained (≥ 95 % accepted at the
// offered rate, none lost) with intake p99 < 1 s.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { incidentWorkflowId } from '../../src/playbooks/match.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import type { Alert } from '../../src/intake/schemas.js';
import { statusQuery } from '../../workflows/contracts.js';
import { pct } from './temporal.js';
import type { LoadResult, LoadSpec } from './storm-load.js';
import type { StormPoint } from './results.js';

export interface CurveSettings {
  rates: number[];
  seconds: number;
  /** Alerts per batched POST, and the incidents one covers. */
  batch: number;
  incidentsPerPost: number;
  incidents: number;
  fingerprints: number;
  maxInFlight: number;
}

/** One point of the curve: its shape is the results file's (bench/lib/results.ts). */
export type CurvePoint = StormPoint;

/** The intake p99 a sustained rate must stay under. */
export const INTAKE_P99_LIMIT_MS = 1000;

const LOAD = fileURLToPath(new URL('./storm-load.ts', import.meta.url));

function generate(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD], { env: { ...process.env, STORM_LOAD: JSON.stringify(spec) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`storm load generator exited ${code}`))));
  });
}

/** Each incident's alertsReceived until it holds at least what was accepted for it (or 180 s).
 * A query the starved worker does not answer in time leaves that incident unaccounted, not lost. */
async function account(client: Client, playbook: Playbook, alertname: string, expected: Record<string, number>): Promise<{ lost: number; unaccounted: number; seconds: number }> {
  const t0 = performance.now();
  const received: Record<string, number> = {};
  const short = (want: number, got: number | undefined): number => (got === undefined ? 0 : Math.max(0, want - got));
  for (;;) {
    for (const [service, want] of Object.entries(expected)) {
      if ((received[service] ?? -1) >= want) continue;
      const alert: Alert = { status: 'firing', alertname, severity: 'warning', labels: { alertname, service }, annotations: {}, startsAt: '', fingerprint: '', source: 'alertmanager', receivedAt: 0 };
      const got = await client.workflow.getHandle(incidentWorkflowId(playbook, alert)).query(statusQuery).then((st) => st.alertsReceived, () => undefined);
      if (got !== undefined) received[service] = got;
    }
    const lost = Object.entries(expected).reduce((n, [s, want]) => n + short(want, received[s]), 0);
    const unaccounted = Object.entries(expected).reduce((n, [s, want]) => n + (received[s] === undefined ? want : 0), 0);
    if ((lost === 0 && unaccounted === 0) || performance.now() - t0 > 180_000) return { lost, unaccounted, seconds: (performance.now() - t0) / 1000 };
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function stormCurve(o: { client: Client; url: string; token: string; playbook: Playbook; alertname: string; settings: CurveSettings; onPoint?: (points: CurvePoint[]) => Promise<void> }): Promise<CurvePoint[]> {
  const s = o.settings;
  const points: CurvePoint[] = [];
  let n = 0;
  for (const shape of ['single', 'batched'] as const) {
    for (const rate of s.rates) {
      const batch = shape === 'single' ? 1 : s.batch;
      const spec: LoadSpec = {
        url: o.url,
        token: o.token,
        alertname: o.alertname,
        rate,
        seconds: s.seconds,
        batch,
        incidents: s.incidents,
        prefix: `p${n++}-svc-`,
        fingerprints: s.fingerprints,
        incidentsPerPost: shape === 'single' ? 1 : s.incidentsPerPost,
        maxInFlight: s.maxInFlight,
      };
      const load1 = Number(loadavg()[0]!.toFixed(2));
      console.log(`storm curve: ${shape}, ${rate} alerts/s offered for ${s.seconds} s (${batch} alert${batch > 1 ? 's' : ''} per POST; load ${load1})…`);
      const r = await generate(spec);
      const { lost, unaccounted, seconds } = await account(o.client, o.playbook, o.alertname, r.acceptedByService);
      const accepted = r.acceptedAlerts / r.elapsedSeconds;
      const p99 = pct(r.latencies, 99);
      const point: CurvePoint = {
        shape,
        alertsPerPost: batch,
        offered: rate,
        accepted: Math.round(accepted),
        p50Ms: Number(pct(r.latencies, 50).toFixed(1)),
        p99Ms: Number(p99.toFixed(1)),
        refused: r.alerts - r.acceptedAlerts,
        lost,
        unaccounted,
        senderLagP99Ms: Number(r.lagP99Ms.toFixed(1)),
        appliedAfterSeconds: Number(seconds.toFixed(1)),
        load1,
        sustained: accepted >= 0.95 * rate && lost === 0 && unaccounted === 0 && r.acceptedAlerts === r.alerts,
        p99UnderLimit: p99 < INTAKE_P99_LIMIT_MS,
      };
      console.log(`storm curve:   accepted ${point.accepted}/s, p50 ${point.p50Ms} ms, p99 ${point.p99Ms} ms, refused ${point.refused}, lost ${lost}, unaccounted ${unaccounted} (responses ${Object.entries(r.statuses).map(([k, v]) => `${k}×${v}`).join(', ')})`);
      points.push(point);
      await o.onPoint?.(points);
    }
  }
  return points;
}

/** The knee of a shape: the highest offered rate, climbing from the lowest, up to which every point
 * was sustained with intake p99 under the limit (undefined: not even the lowest). */
export function knee(points: CurvePoint[], shape: CurvePoint['shape']): number | undefined {
  let best: number | undefined;
  for (const p of points.filter((x) => x.shape === shape).sort((a, b) => a.offered - b.offered)) {
    if (!(p.sustained && p.p99UnderLimit)) break;
    best = p.offered;
  }
  return best;
}
