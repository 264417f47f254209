// Policy gates are pure functions of their inputs and "now": every gate, plus how decisions
// combine into one verdict. Reasons go into the incident timeline verbatim, so they are checked
// for the numbers and times an operator needs.
import { describe, expect, it } from 'vitest';
import { LimitsSchema, MaintenanceWindowSchema, type MaintenanceWindow } from '../../src/playbooks/schema.js';
import {
  activeWindowEnd,
  blastRadiusGate,
  combine,
  concurrencyGate,
  cooldownGate,
  deploymentGate,
  killSwitchGate,
  localTime,
  maintenanceGate,
  rateLimitGate,
  RECHECK_MS,
  type ActionLedger,
  type GateDecision,
} from '../../src/policy/gates.js';

const MIN = 60_000;
const t = (iso: string): number => Date.parse(iso);
const window = (w: unknown): MaintenanceWindow => MaintenanceWindowSchema.parse(w);

describe('combine', () => {
  const passD: GateDecision = { gate: 'cooldown', outcome: 'pass', reason: 'ok' };
  const waitA: GateDecision = { gate: 'rate-limit', outcome: 'wait', reason: 'rate', untilMs: 1_000 };
  const waitB: GateDecision = { gate: 'maintenance-window', outcome: 'wait', reason: 'window', untilMs: 5_000 };
  const block: GateDecision = { gate: 'blast-radius', outcome: 'block', reason: 'too wide' };

  it('allows when every gate passes (or there are none)', () => {
    expect(combine([passD, passD])).toEqual({ verdict: 'allow' });
    expect(combine([])).toEqual({ verdict: 'allow' });
  });

  it('waits until the latest wait ends, listing every reason', () => {
    expect(combine([waitA, passD, waitB])).toEqual({ verdict: 'wait', untilMs: 5_000, reasons: ['rate', 'window'] });
  });

  it('a block beats any wait and lists only the blocking reasons', () => {
    expect(combine([waitA, block, passD])).toEqual({ verdict: 'block', reasons: ['too wide'] });
  });
});

describe('kill switch', () => {
  const now = t('2024-01-15T10:00:00Z');

  it('passes while automation is enabled', () => {
    expect(killSwitchGate({ paused: false }, now)).toMatchObject({ gate: 'kill-switch', outcome: 'pass' });
  });

  it('holds while paused, says who and why, and looks again shortly', () => {
    const d = killSwitchGate({ paused: true, by: 'alice', reason: 'db failover', at: now - MIN }, now);
    expect(d).toEqual({
      gate: 'kill-switch',
      outcome: 'wait',
      reason: 'automation is paused by alice: db failover; holding until resumed',
      untilMs: now + RECHECK_MS,
    });
    expect(killSwitchGate({ paused: true }, now).reason).toBe('automation is paused; holding until resumed');
  });
});

describe('maintenance windows', () => {
  describe('absolute', () => {
    const w = window({ start: '2024-03-01T10:00:00+01:00', end: '2024-03-01T12:00:00+01:00', reason: 'db upgrade' });

    it('is active from start (inclusive) to end (exclusive), honouring the offset', () => {
      expect(activeWindowEnd(w, t('2024-03-01T08:59:59Z'))).toBeUndefined();
      expect(activeWindowEnd(w, t('2024-03-01T09:00:00Z'))).toBe(t('2024-03-01T11:00:00Z'));
      expect(activeWindowEnd(w, t('2024-03-01T10:59:59Z'))).toBe(t('2024-03-01T11:00:00Z'));
      expect(activeWindowEnd(w, t('2024-03-01T11:00:00Z'))).toBeUndefined();
    });

    it('the gate holds until the end and says why', () => {
      expect(maintenanceGate([w], t('2024-03-01T09:30:00Z'))).toEqual({
        gate: 'maintenance-window',
        outcome: 'wait',
        reason: 'maintenance window active (db upgrade); holding until 2024-03-01T11:00:00.000Z',
        untilMs: t('2024-03-01T11:00:00Z'),
      });
      expect(maintenanceGate([w], t('2024-03-01T12:00:00Z'))).toMatchObject({ outcome: 'pass' });
      expect(maintenanceGate([], t('2024-03-01T09:30:00Z'))).toMatchObject({ outcome: 'pass' });
    });

    it('with overlapping windows, holds until the one that ends last', () => {
      const later = window({ start: '2024-03-01T09:00:00Z', end: '2024-03-01T13:00:00Z', reason: 'network' });
      const d = maintenanceGate([w, later], t('2024-03-01T09:30:00Z'));
      expect(d.untilMs).toBe(t('2024-03-01T13:00:00Z'));
      expect(d.reason).toBe('maintenance window active (network); holding until 2024-03-01T13:00:00.000Z');
    });
  });

  describe('recurring, in a time zone', () => {
    // Monday 02:00-04:00 in Berlin; in January Berlin is UTC+1 (CET).
    const berlin = window({ days: ['mon'], from: '02:00', to: '04:00', timeZone: 'Europe/Berlin' });

    it('localTime converts to the zone (winter and summer)', () => {
      expect(localTime(t('2024-01-15T01:30:00Z'), 'Europe/Berlin')).toEqual({ day: 1, minute: 2 * 60 + 30 });
      expect(localTime(t('2024-07-15T01:30:00Z'), 'Europe/Berlin')).toEqual({ day: 1, minute: 3 * 60 + 30 });
      expect(localTime(t('2024-01-15T23:30:00Z'), 'Europe/Berlin')).toEqual({ day: 2, minute: 30 });
    });

    it('Europe/Berlin in winter: active by local time, not by UTC', () => {
      // 01:00Z = 02:00 CET: inside (would be outside if read as UTC).
      expect(activeWindowEnd(berlin, t('2024-01-15T01:00:00Z'))).toBe(t('2024-01-15T03:00:00Z'));
      // 02:59:30Z = 03:59:30 CET: still inside, ends on the minute.
      expect(activeWindowEnd(berlin, t('2024-01-15T02:59:30Z'))).toBe(t('2024-01-15T03:00:00Z'));
      // 03:30Z = 04:30 CET: outside (would be inside if read as UTC).
      expect(activeWindowEnd(berlin, t('2024-01-15T03:30:00Z'))).toBeUndefined();
      // 00:30Z = 01:30 CET: not yet.
      expect(activeWindowEnd(berlin, t('2024-01-15T00:30:00Z'))).toBeUndefined();
      // Same local time on Tuesday: wrong day.
      expect(activeWindowEnd(berlin, t('2024-01-16T01:30:00Z'))).toBeUndefined();
    });

    it('the gate reason names the local window end in UTC', () => {
      const d = maintenanceGate([berlin], t('2024-01-15T01:30:00Z'));
      expect(d).toMatchObject({ outcome: 'wait', untilMs: t('2024-01-15T03:00:00Z') });
      expect(d.reason).toBe('maintenance window active; holding until 2024-01-15T03:00:00.000Z');
    });

    it('America/New_York: the local weekday differs from the UTC one', () => {
      const ny = window({ days: ['fri'], from: '22:00', to: '23:30', timeZone: 'America/New_York' });
      // Saturday 03:15Z = Friday 22:15 EST (UTC-5).
      expect(activeWindowEnd(ny, t('2024-01-20T03:15:00Z'))).toBe(t('2024-01-20T04:30:00Z'));
      // Friday 22:15Z = Friday 17:15 EST: outside.
      expect(activeWindowEnd(ny, t('2024-01-19T22:15:00Z'))).toBeUndefined();
    });

    it('a window without a time zone is UTC', () => {
      const utc = window({ days: ['mon'], from: '02:00', to: '04:00' });
      expect(utc).toMatchObject({ timeZone: 'UTC' });
      expect(activeWindowEnd(utc, t('2024-01-15T03:00:00Z'))).toBe(t('2024-01-15T04:00:00Z'));
    });
  });

  describe('overnight (22:00-04:00, Fridays)', () => {
    const night = window({ days: ['fri'], from: '22:00', to: '04:00', reason: 'batch jobs' });

    it('the evening part: Friday 22:00 up to midnight, ending Saturday 04:00', () => {
      expect(activeWindowEnd(night, t('2024-01-19T21:59:59Z'))).toBeUndefined();
      expect(activeWindowEnd(night, t('2024-01-19T22:00:00Z'))).toBe(t('2024-01-20T04:00:00Z'));
      expect(activeWindowEnd(night, t('2024-01-19T23:59:30Z'))).toBe(t('2024-01-20T04:00:00Z'));
    });

    it('the morning part belongs to the window that started yesterday', () => {
      expect(activeWindowEnd(night, t('2024-01-20T00:00:00Z'))).toBe(t('2024-01-20T04:00:00Z'));
      expect(activeWindowEnd(night, t('2024-01-20T03:59:00Z'))).toBe(t('2024-01-20T04:00:00Z'));
      expect(activeWindowEnd(night, t('2024-01-20T04:00:00Z'))).toBeUndefined();
    });

    it('is not active on the days around it', () => {
      // Friday early morning: Thursday is not a window day.
      expect(activeWindowEnd(night, t('2024-01-19T03:00:00Z'))).toBeUndefined();
      // Saturday evening and Sunday early morning: Saturday is not a window day.
      expect(activeWindowEnd(night, t('2024-01-20T23:00:00Z'))).toBeUndefined();
      expect(activeWindowEnd(night, t('2024-01-21T03:00:00Z'))).toBeUndefined();
    });

    it('in Europe/Berlin, after local midnight, with the reason', () => {
      const berlinNight = window({ days: ['fri'], from: '22:00', to: '04:00', timeZone: 'Europe/Berlin', reason: 'batch' });
      // 2024-01-19T23:30Z = Saturday 00:30 CET, window started Friday 22:00 CET.
      const d = maintenanceGate([berlinNight], t('2024-01-19T23:30:00Z'));
      expect(d).toEqual({
        gate: 'maintenance-window',
        outcome: 'wait',
        reason: 'maintenance window active (batch); holding until 2024-01-20T03:00:00.000Z',
        untilMs: t('2024-01-20T03:00:00Z'),
      });
      // 20:59Z = 21:59 CET Friday: not yet.
      expect(activeWindowEnd(berlinNight, t('2024-01-19T20:59:00Z'))).toBeUndefined();
    });
  });
});

describe('deployment', () => {
  const now = t('2024-01-15T10:00:00Z');

  it('a deployment marker holds until it ends, naming who set it', () => {
    const d = deploymentGate({ labelActive: false, label: 'deploying', marker: { until: now + 10 * MIN, by: 'carol' } }, now);
    expect(d).toEqual({
      gate: 'active-deployment',
      outcome: 'wait',
      reason: 'deployment in progress (marked by carol); holding until 2024-01-15T10:10:00.000Z',
      untilMs: now + 10 * MIN,
    });
  });

  it('an expired marker is ignored', () => {
    const d = deploymentGate({ labelActive: false, label: 'deploying', marker: { until: now, by: 'carol' } }, now);
    expect(d).toMatchObject({ outcome: 'pass', reason: 'no active deployment' });
  });

  it('the alert label blocks, naming the label', () => {
    const d = deploymentGate({ labelActive: true, label: 'rollout' }, now);
    expect(d).toMatchObject({ gate: 'active-deployment', outcome: 'block' });
    expect(d.reason).toContain('rollout="true"');
  });

  it('a live marker takes precedence over the label (wait, not block)', () => {
    const d = deploymentGate({ labelActive: true, label: 'deploying', marker: { until: now + MIN, by: 'ci' } }, now);
    expect(d).toMatchObject({ outcome: 'wait', untilMs: now + MIN });
  });
});

describe('blast radius', () => {
  it('passes up to the limit', () => {
    expect(blastRadiusGate(['web-1'], 1)).toMatchObject({ outcome: 'pass', reason: '1 target(s), limit 1' });
    expect(blastRadiusGate([], 1)).toMatchObject({ outcome: 'pass' });
  });

  it('blocks above it, listing the targets and the limit', () => {
    expect(blastRadiusGate(['web-1', 'web-2', 'web-3'], 2)).toEqual({
      gate: 'blast-radius',
      outcome: 'block',
      reason: 'step would touch 3 targets (web-1, web-2, web-3), above the blast radius of 2',
    });
  });
});

describe('rate limit', () => {
  const now = t('2024-01-15T10:00:00Z');
  const limits = LimitsSchema.parse({ maxActionsPerHourPerTarget: 3, maxActionsPerHourGlobal: 5 });
  const ledger = (targetStarts: number[], globalStarts: number[]): ActionLedger => ({
    targetStarts,
    globalStarts,
    targetInFlight: 0,
    globalInFlight: 0,
  });
  const ago = (...minutes: number[]): number[] => minutes.map((m) => now - m * MIN);

  it('passes below both limits, ignoring actions older than an hour', () => {
    const d = rateLimitGate(ledger(ago(10, 20, 61, 90), ago(1, 2, 3, 4, 61, 62, 63)), limits, now);
    expect(d).toMatchObject({ gate: 'rate-limit', outcome: 'pass' });
  });

  it('per target: waits until the oldest counted action leaves the hour', () => {
    // Unsorted on purpose; the 70-minute-old one no longer counts.
    const starts = ago(10, 50, 70, 40);
    const d = rateLimitGate(ledger(starts, starts), limits, now);
    expect(d).toEqual({
      gate: 'rate-limit',
      outcome: 'wait',
      reason: '3 actions in the last hour on this target (limit 3); next slot at 2024-01-15T10:10:00.000Z',
      untilMs: now + 10 * MIN,
    });
    // The slot really is free then, and not a millisecond earlier.
    expect(rateLimitGate(ledger(starts, starts), limits, d.untilMs!)).toMatchObject({ outcome: 'pass' });
    expect(rateLimitGate(ledger(starts, starts), limits, d.untilMs! - 1)).toMatchObject({ outcome: 'wait' });
  });

  it('globally: with more than the limit counted, waits for enough of them to expire', () => {
    const global = ago(58, 50, 40, 30, 20, 10);
    const d = rateLimitGate(ledger(ago(5), global), limits, now);
    expect(d).toEqual({
      gate: 'rate-limit',
      outcome: 'wait',
      reason: '6 actions in the last hour across medic (limit 5); next slot at 2024-01-15T10:10:00.000Z',
      untilMs: now + 10 * MIN,
    });
    expect(rateLimitGate(ledger(ago(5), global), limits, d.untilMs!)).toMatchObject({ outcome: 'pass' });
    expect(rateLimitGate(ledger(ago(5), global), limits, d.untilMs! - 1)).toMatchObject({ outcome: 'wait' });
  });
});

describe('concurrency', () => {
  const now = t('2024-01-15T10:00:00Z');
  const limits = LimitsSchema.parse({ maxConcurrentPerTarget: 1, maxConcurrentGlobal: 3 });
  const ledger = (targetInFlight: number, globalInFlight: number): ActionLedger => ({
    targetStarts: [],
    globalStarts: [],
    targetInFlight,
    globalInFlight,
  });

  it('passes below both limits', () => {
    expect(concurrencyGate(ledger(0, 2), limits, now)).toMatchObject({ outcome: 'pass' });
  });

  const waits = (reason: string) => ({ gate: 'concurrency', outcome: 'wait', reason, untilMs: now + RECHECK_MS });

  it('waits (and re-checks) when the target is busy', () => {
    expect(concurrencyGate(ledger(1, 1), limits, now)).toEqual(waits('1 action(s) already running on this target (limit 1)'));
  });

  it('waits when medic as a whole is busy', () => {
    expect(concurrencyGate(ledger(0, 3), limits, now)).toEqual(waits('3 action(s) running across medic (limit 3)'));
  });
});

describe('cooldown', () => {
  const now = t('2024-01-15T10:00:00Z');

  it('blocks while the target cools down, naming the failed incident and the end', () => {
    expect(cooldownGate({ until: now + 15 * MIN, incidentId: 'incident:web:abc-1234' }, now)).toEqual({
      gate: 'cooldown',
      outcome: 'block',
      reason: 'target is cooling down until 2024-01-15T10:15:00.000Z after a failed remediation in incident:web:abc-1234',
    });
  });

  it('passes once the cooldown is over, or when there is none', () => {
    expect(cooldownGate({ until: now, incidentId: 'x' }, now)).toMatchObject({ outcome: 'pass' });
    expect(cooldownGate(undefined, now)).toMatchObject({ outcome: 'pass' });
  });
});

describe('gates together', () => {
  it('a paused medic inside a maintenance window waits for the later of the two', () => {
    const now = t('2024-01-15T01:30:00Z');
    const berlin = window({ days: ['mon'], from: '02:00', to: '04:00', timeZone: 'Europe/Berlin' });
    const v = combine([killSwitchGate({ paused: true, by: 'bob' }, now), maintenanceGate([berlin], now), cooldownGate(undefined, now)]);
    expect(v).toEqual({
      verdict: 'wait',
      untilMs: t('2024-01-15T03:00:00Z'),
      reasons: [
        'automation is paused by bob; holding until resumed',
        'maintenance window active; holding until 2024-01-15T03:00:00.000Z',
      ],
    });
  });
});
