// Similar past incidents: precision@3 of the ranking (src/store/similar.ts) on a generated history
// where each incident has a hidden root cause. Causes share alertnames and services on purpose (a
// crash-looping alert for several services, several alerts for one service) and the evidence
// signature is missing for a third of incidents, so alertname-only matching is a weak baseline.
import { describe, expect, it } from 'vitest';
import { rankSimilar, whatWorked, type Candidate, type StepRates } from '../../src/store/similar.js';
import { statusOf } from '../../src/incident/state.js';
import { coreDriver } from '../support/incident-core.js';
import { testPlaybook } from '../support/fixtures.js';

/** Deterministic PRNG (mulberry32), so the figure is reproducible. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALERTS = ['KubePodCrashLooping', 'HighLatency', 'DiskFull', 'OOMKilled'];
const SERVICES = ['checkout', 'search', 'payments', 'auth'];

function history(n: number, seed: number): (Candidate & { cause: number })[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  // 16 causes over 4 alertnames × 4 services, each with its own namespace/deployment and fix.
  const causes = ALERTS.flatMap((alertname, a) => SERVICES.map((service, s) => ({ alertname, service, deployment: `${service}-${a}`, signature: `${alertname} deployment/${service}-${a}`, fix: `fix-${a}-${s}` })));
  return Array.from({ length: n }, (_, i) => {
    const cause = Math.floor(r() * causes.length);
    const c = causes[cause]!;
    const noisy = r() < 0.15; // a related alert fires first
    return {
      cause,
      incidentId: `inc-${i}`,
      playbook: `pb-${c.alertname}`,
      alertname: noisy ? pick(ALERTS) : c.alertname,
      service: c.service,
      labels: { deployment: c.deployment, namespace: c.service, pod: `${c.deployment}-${Math.floor(r() * 1e6)}`, ...(r() < 0.3 ? { team: pick(['a', 'b']) } : {}) },
      ...(r() < 0.67 ? { signature: c.signature } : {}),
      openedAt: i * 60_000,
      outcome: 'healed',
      fixedBy: c.fix,
    };
  });
}

function precisionAt3(rank: (q: Candidate & { cause: number }, past: Candidate[]) => Candidate[] | { incidentId: string }[], h: (Candidate & { cause: number })[]): number {
  let hits = 0;
  let shown = 0;
  const causeOf = new Map(h.map((x) => [x.incidentId, x.cause]));
  for (const q of h.slice(200)) {
    const past = h.filter((x) => x.openedAt < q.openedAt);
    for (const f of rank(q, past).slice(0, 3)) {
      shown += 1;
      if (causeOf.get(f.incidentId) === q.cause) hits += 1;
    }
  }
  return shown === 0 ? 0 : hits / shown;
}

describe('similar past incidents', () => {
  it('precision@3 on a generated history of 600 incidents (16 causes) beats alertname-only matching', () => {
    const h = history(600, 15);
    const rates: StepRates = new Map();
    const ours = precisionAt3((q, past) => rankSimilar({ ...q, labels: q.labels }, past, rates, 3), h);
    const baseline = precisionAt3((q, past) => past.filter((c) => c.alertname === q.alertname).sort((a, b) => b.openedAt - a.openedAt), h);
    console.log(`similar incidents: precision@3 = ${ours.toFixed(3)} (alertname-only baseline ${baseline.toFixed(3)}) over 400 queries`);
    expect(ours).toBeGreaterThanOrEqual(0.9);
    expect(ours).toBeGreaterThan(baseline + 0.3);
  });

  it('try what worked last time: the best-rated fix this playbook also has; none below half healed', () => {
    const sim = (step: string, successRate: number, runs: number) => ({ incidentId: step, openedAt: 0, playbook: 'p', why: 'same alertname', score: 4, outcome: 'healed', postmortem: '/x', fix: { step, successRate, runs } });
    const steps = [{ name: 'restart' }, { name: 'rollback' }];
    expect(whatWorked([sim('scale-up', 1, 9), sim('rollback', 0.8, 5), sim('restart', 0.6, 10)], steps)).toEqual({ step: 'rollback', index: 1, successRate: 0.8 });
    expect(whatWorked([sim('restart', 0.4, 10)], steps)).toBeUndefined();
  });

  it('the decision core asks the store once at open (when there is one) and keeps the best three; the status offers what worked', () => {
    const pb = testPlaybook({ name: 'similar-core', match: { alertname: 'DemoServiceDown' }, steps: [{ name: 'restart', action: 'http', params: { url: 'http://127.0.0.1:9/r' } }, { name: 'rollback', action: 'http', params: { url: 'http://127.0.0.1:9/b' } }] });
    expect(coreDriver(pb).send({ kind: 'start', carried: false }).some((c) => c.kind === 'findSimilar')).toBe(false);
    const d = coreDriver(pb, { similar: true });
    const [ask] = d.send({ kind: 'start', carried: false }).filter((c) => c.kind === 'findSimilar');
    expect(ask).toMatchObject({ query: { incidentId: 'inc-1', playbook: 'similar-core', alertname: 'DemoServiceDown', service: 'api' } });
    const sim = (id: string, step: string, successRate: number) => ({ incidentId: id, openedAt: 0, playbook: 'similar-core', why: 'same alertname, service', score: 4.5, outcome: 'healed', postmortem: `/api/incidents/${id}/postmortem`, fix: { step, successRate, runs: 4 } });
    d.send({ kind: 'similarFound', similar: [sim('a', 'rollback', 0.75), sim('b', 'restart', 0.5), sim('c', 'restart', 0.5), sim('d', 'restart', 0.5)] });
    expect(d.state.similar?.map((x) => x.incidentId)).toEqual(['a', 'b', 'c']);
    expect(d.notes().at(-1)).toBe('3 similar past incident(s); closest a (same alertname, service, fixed by rollback (healed 75% of 4 runs))');
    const st = statusOf(d.state, { playbook: pb, alert: d.alert, target: 'api' }, 'wf-1');
    expect(st.tryWhatWorked).toEqual({ step: 'rollback', index: 1, successRate: 0.75 });
  });
});
