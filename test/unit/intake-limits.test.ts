// Pure parts of the intake limits: the token bucket, the request-size checks and the fingerprint
// bound of incident state.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { checkAlertLimits, IntakeLimitsSchema } from '../../src/intake/limits.js';
import { RateLimiter } from '../../src/intake/rate-limit.js';
import type { Alert } from '../../workflows/contracts.js';
import { applyAlerts, newState } from '../../src/incident/state.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');

function alert(fingerprint: string, status: Alert['status'] = 'firing', labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Alert {
  return {
    status,
    alertname: 'Flood',
    severity: 'critical',
    labels: { alertname: 'Flood', ...labels },
    annotations,
    startsAt: new Date(NOW).toISOString(),
    fingerprint,
    source: 'alertmanager',
    receivedAt: NOW,
  };
}

describe('RateLimiter (token bucket per source)', () => {
  it('lets a burst through, then refuses with the seconds until a token is back, then refills', () => {
    let now = NOW;
    const rl = new RateLimiter({ ratePerSecond: 2, burst: 5, maxSources: 100 }, () => now);
    for (let i = 0; i < 5; i++) expect(rl.take('a')).toEqual({ ok: true });
    expect(rl.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    // another source has its own bucket
    expect(rl.take('b')).toEqual({ ok: true });
    now += 500; // one token at 2/s
    expect(rl.take('a')).toEqual({ ok: true });
    expect(rl.take('a').ok).toBe(false);
    now += 10_000; // refills up to the burst, not beyond
    for (let i = 0; i < 5; i++) expect(rl.take('a').ok).toBe(true);
    expect(rl.take('a').ok).toBe(false);
  });

  it('Retry-After is long enough at slow rates', () => {
    let now = NOW;
    const rl = new RateLimiter({ ratePerSecond: 0.1, burst: 1, maxSources: 10 }, () => now);
    expect(rl.take('a').ok).toBe(true);
    expect(rl.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 });
    now += 9_000;
    expect(rl.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 1_000;
    expect(rl.take('a').ok).toBe(true);
  });

  it('never admits more than burst + rate × elapsed (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 }),
        (rate, burst, gaps) => {
          let now = NOW;
          const rl = new RateLimiter({ ratePerSecond: rate, burst, maxSources: 10 }, () => now);
          let admitted = 0;
          for (const gap of gaps) {
            now += gap;
            if (rl.take('x').ok) admitted += 1;
          }
          expect(admitted).toBeLessThanOrEqual(burst + Math.floor((rate * (now - NOW)) / 1000));
        },
      ),
    );
  });

  it('keeps at most maxSources buckets, forgetting the least recently seen', () => {
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 1, maxSources: 3 }, () => NOW);
    for (const s of ['a', 'b', 'c']) rl.take(s);
    expect(rl.take('a').ok).toBe(false); // a is now the most recent
    rl.take('d'); // evicts b
    expect(rl.size).toBe(3);
    expect(rl.take('c').ok).toBe(false);
    expect(rl.take('a').ok).toBe(false);
    expect(rl.take('b').ok).toBe(true); // forgotten: a full bucket again
  });
});

describe('checkAlertLimits', () => {
  const limits = IntakeLimitsSchema.parse({ maxAlertsPerRequest: 3, maxLabelsPerAlert: 4, maxLabelNameBytes: 10, maxLabelBytes: 20, maxAnnotationBytes: 30 });

  it('accepts alerts within every limit', () => {
    expect(checkAlertLimits([alert('a', 'firing', { service: 'x'.repeat(20) }, { summary: 'y'.repeat(30) })], limits)).toEqual([]);
  });

  it('names the limit on too many alerts', () => {
    expect(checkAlertLimits([alert('a'), alert('b'), alert('c'), alert('d')], limits)).toEqual([
      { path: 'alerts', message: '4 alerts in one request; the limit is intake.limits.maxAlertsPerRequest = 3' },
    ]);
  });

  it('names the field, its size and the limit on labels and annotations', () => {
    const issues = checkAlertLimits(
      [
        alert('a', 'firing', { a: '1', b: '2', c: '3', d: '4' }), // 5 with alertname
        alert('b', 'firing', { service: 'é'.repeat(11) }), // 22 bytes
        alert('c', 'firing', { ['n'.repeat(11)]: 'v' }, { summary: 's'.repeat(31) }),
      ],
      limits,
    );
    expect(issues).toEqual([
      { path: 'alerts.0.labels', message: '5 labels; the limit is intake.limits.maxLabelsPerAlert = 4' },
      { path: 'alerts.1.labels.service', message: 'value is 22 bytes; the limit is intake.limits.maxLabelBytes = 20' },
      { path: 'alerts.2.labels', message: 'name `nnnnnnnnnnn` is 11 bytes; the limit is intake.limits.maxLabelNameBytes = 10' },
      { path: 'alerts.2.annotations.summary', message: 'value is 31 bytes; the limit is intake.limits.maxAnnotationBytes = 30' },
    ]);
  });

  it('lists at most 20 problems and never echoes a long name whole', () => {
    const many = IntakeLimitsSchema.parse({ maxLabelBytes: 1 });
    const labels = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`l${i}`, 'xx']));
    expect(checkAlertLimits([alert('a', 'firing', labels)], many)).toHaveLength(20);
    const [issue] = checkAlertLimits([alert('a', 'firing', { ['k'.repeat(5_000)]: 'v' })], IntakeLimitsSchema.parse({}));
    expect(issue!.message.length).toBeLessThan(200);
  });
});

describe('applyAlerts with a fingerprint cap', () => {
  it('keeps at most cap fingerprints, evicting the oldest resolved first, and counts evictions', () => {
    const s = newState('incident:flood:abc', alert('f0'), NOW);
    applyAlerts(s, [alert('f0'), alert('f1'), alert('f2', 'resolved'), alert('f3')], 3);
    expect(s.fingerprints).toEqual({ f0: 'firing', f1: 'firing', f3: 'firing' });
    expect(s.fingerprintsEvicted).toEqual({ total: 1, firing: 0 });
    applyAlerts(s, [alert('f4')], 3); // nothing resolved: the oldest goes, still firing
    expect(s.fingerprintOrder).toEqual(['f1', 'f3', 'f4']);
    expect(s.fingerprintsEvicted).toEqual({ total: 2, firing: 1 });
    expect(s.alertsReceived).toBe(5);
  });

  it('an evicted firing alert keeps the incident from resolving until a resolve for an unknown fingerprint arrives', () => {
    const s = newState('incident:flood:abc', alert('a'), NOW);
    applyAlerts(s, [alert('a'), alert('b'), alert('c')], 2); // a evicted while firing
    applyAlerts(s, [alert('b', 'resolved'), alert('c', 'resolved')], 2);
    expect(s.resolvedByAlert).toBe(false);
    applyAlerts(s, [alert('a', 'resolved')], 2);
    expect(s.fingerprintsEvicted!.firing).toBe(0);
    expect(s.resolvedByAlert).toBe(true);
  });

  it('trims state carried from before the bound on the next alert', () => {
    const s = newState('incident:flood:abc', alert('a'), NOW);
    applyAlerts(s, Array.from({ length: 50 }, (_, i) => alert(`old-${i}`))); // unbounded, as before
    expect(Object.keys(s.fingerprints)).toHaveLength(50);
    applyAlerts(s, [alert('new')], 10);
    expect(Object.keys(s.fingerprints)).toHaveLength(10);
    expect(s.fingerprints.new).toBe('firing');
    expect(s.fingerprintsEvicted).toEqual({ total: 41, firing: 41 });
  });

  it('stays bounded whatever arrives (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.boolean()), { maxLength: 30 }), { maxLength: 20 }),
        (cap, batches) => {
          const s = newState('incident:flood:abc', alert('x'), NOW);
          let n = 0;
          for (const b of batches) {
            applyAlerts(s, b.map(([f, firing]) => alert(`f${f}`, firing ? 'firing' : 'resolved')), cap);
            n += b.length;
            expect(Object.keys(s.fingerprints).length).toBeLessThanOrEqual(cap);
            expect(s.fingerprintOrder!.length).toBe(Object.keys(s.fingerprints).length);
            expect(s.alertsReceived).toBe(n);
          }
          // Resolved by alert only when nothing known or evicted still fires.
          if (s.resolvedByAlert) expect(Object.values(s.fingerprints).every((st) => st === 'resolved') && s.fingerprintsEvicted!.firing === 0).toBe(true);
        },
      ),
    );
  });
});

describe('intake.limits in the config', () => {
  const token = { MEDIC_INTAKE_TOKEN: 'intake-token-0123456789' };
  it('reads the rate, burst and open-incident cap from the environment', () => {
    const c = loadConfig({ ...token, MEDIC_INTAKE_REQUESTS_PER_SECOND: '5', MEDIC_INTAKE_BURST: '10', MEDIC_INTAKE_MAX_OPEN_INCIDENTS_PER_PLAYBOOK: '7' });
    expect(c.intake?.limits).toMatchObject({ requestsPerSecond: 5, burst: 10, maxOpenIncidentsPerPlaybook: 7, maxAlertsPerRequest: 1_000 });
  });
  it('refuses a nonsensical limit, naming it', () => {
    expect(() => loadConfig({ ...token, MEDIC_INTAKE_BURST: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...token, MEDIC_INTAKE_BURST: '0' })).toThrow(/intake\.limits\.burst/);
  });
});
