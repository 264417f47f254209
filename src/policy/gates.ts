// Policy gates: pure functions of their inputs and "now", so they run unchanged inside the
// workflow sandbox (where Date.now() is deterministic) and in unit tests. Each returns a
// decision with a reason that goes into the incident timeline verbatim.
import type { Limits, MaintenanceWindow } from '../playbooks/schema.js';
import type { Cooldown, DeploymentMarker, GateDecision, GateName, PauseState } from '../../workflows/contracts-governor.js';

export type { Cooldown, DeploymentMarker, GateDecision, GateName, PauseState };

export type Verdict =
  | { verdict: 'allow' }
  | { verdict: 'wait'; untilMs: number; reasons: string[] }
  | { verdict: 'block'; reasons: string[] };

const iso = (ms: number): string => new Date(ms).toISOString();
const pass = (gate: GateName, reason: string): GateDecision => ({ gate, outcome: 'pass', reason });

/** How often a gate without a known end (concurrency, pause) is looked at again. */
export const RECHECK_MS = 5_000;

export function combine(decisions: GateDecision[]): Verdict {
  const blocks = decisions.filter((d) => d.outcome === 'block');
  if (blocks.length > 0) return { verdict: 'block', reasons: blocks.map((d) => d.reason) };
  const waits = decisions.filter((d) => d.outcome === 'wait');
  if (waits.length > 0) {
    return {
      verdict: 'wait',
      untilMs: Math.max(...waits.map((d) => d.untilMs ?? 0)),
      reasons: waits.map((d) => d.reason),
    };
  }
  return { verdict: 'allow' };
}

export function killSwitchGate(pause: PauseState, now: number): GateDecision {
  if (!pause.paused) return pass('kill-switch', 'automation is enabled');
  const who = pause.by ? ` by ${pause.by}` : '';
  const why = pause.reason ? `: ${pause.reason}` : '';
  return {
    gate: 'kill-switch',
    outcome: 'wait',
    reason: `automation is paused${who}${why}; holding until resumed`,
    untilMs: now + RECHECK_MS,
  };
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Local weekday index (0 = Sunday) and minute of day of `now` in an IANA time zone. */
export function localTime(now: number, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  const day = WEEKDAYS.indexOf(get('weekday').toLowerCase() as (typeof WEEKDAYS)[number]);
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

const toMinute = (hhmm: string): number => {
  const [h = '0', m = '0'] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
};

/** End of the window `now` falls in, or undefined when outside every window. */
export function activeWindowEnd(window: MaintenanceWindow, now: number): number | undefined {
  if ('start' in window) {
    const start = Date.parse(window.start);
    const end = Date.parse(window.end);
    return now >= start && now < end ? end : undefined;
  }
  const { day, minute } = localTime(now, window.timeZone);
  const from = toMinute(window.from);
  const to = toMinute(window.to);
  const has = (d: number): boolean => window.days.includes(WEEKDAYS[(d + 7) % 7]!);
  const minutesLeft = (endMinute: number): number => (endMinute - minute) * 60_000;
  // Window ends land on whole minutes; DST shifts inside a window are not corrected for.
  const startOfMinute = now - (now % 60_000);
  if (from < to) {
    if (has(day) && minute >= from && minute < to) return startOfMinute + minutesLeft(to);
    return undefined;
  }
  // Overnight window, e.g. 22:00-04:00: either the evening part today or the morning part
  // of a window that started yesterday.
  if (has(day) && minute >= from) return startOfMinute + minutesLeft(to + 24 * 60);
  if (has(day - 1) && minute < to) return startOfMinute + minutesLeft(to);
  return undefined;
}

export function maintenanceGate(windows: MaintenanceWindow[], now: number): GateDecision {
  const ends = windows
    .map((w) => ({ w, end: activeWindowEnd(w, now) }))
    .filter((x): x is { w: MaintenanceWindow; end: number } => x.end !== undefined);
  if (ends.length === 0) return pass('maintenance-window', 'no maintenance window is active');
  const last = ends.reduce((a, b) => (b.end > a.end ? b : a));
  const why = last.w.reason ? ` (${last.w.reason})` : '';
  return {
    gate: 'maintenance-window',
    outcome: 'wait',
    reason: `maintenance window active${why}; holding until ${iso(last.end)}`,
    untilMs: last.end,
  };
}

export function deploymentGate(
  input: { labelActive: boolean; label: string; marker?: DeploymentMarker },
  now: number,
): GateDecision {
  if (input.marker && input.marker.until > now) {
    return {
      gate: 'active-deployment',
      outcome: 'wait',
      reason: `deployment in progress (marked by ${input.marker.by}); holding until ${iso(input.marker.until)}`,
      untilMs: input.marker.until,
    };
  }
  if (input.labelActive) {
    return {
      gate: 'active-deployment',
      outcome: 'block',
      reason: `alert carries ${input.label}="true": a deployment is in progress, automation stands back`,
    };
  }
  return pass('active-deployment', 'no active deployment');
}

export function blastRadiusGate(targets: string[], limit: number, covered?: { seen: number; atMost: number; truncated: number }): GateDecision {
  // The incident's true scope (src/incident/scope.ts): acting on the few targets it can see while
  // it covers more than the step may touch would be a partial fix; a person decides instead.
  if (covered && covered.atMost > limit) {
    const left = covered.truncated > 0 ? `, up to ${covered.truncated} more in alerts Alertmanager left out of a capped notification` : '';
    return { gate: 'blast-radius', outcome: 'block', reason: `the incident covers up to ${covered.atMost} targets (${covered.seen} seen${left}), above the blast radius of ${limit}` };
  }
  if (targets.length <= limit) {
    return pass('blast-radius', `${targets.length} target(s), limit ${limit}${covered ? `; the incident covers ${covered.atMost}` : ''}`);
  }
  return {
    gate: 'blast-radius',
    outcome: 'block',
    reason: `step would touch ${targets.length} targets (${targets.join(', ')}), above the blast radius of ${limit}`,
  };
}

/** A target rendered from alert data that the playbook does not allow-list (src/policy/targets.ts). */
export const targetGate = (refusal: { message: string }): GateDecision => ({ gate: 'target-allow-list', outcome: 'block', reason: refusal.message });

/** Blast radius across incidents: distinct targets this playbook acted on within its window. */
export function windowBudgetGate(
  input: { playbook: string; target: string; touched: { target: string; at: number }[]; targets: number; window: string; windowMs: number },
  now: number,
): GateDecision {
  const recent = new Set(input.touched.filter((t) => t.at > now - input.windowMs).map((t) => t.target));
  if (recent.has(input.target) || recent.size < input.targets) {
    return pass('blast-radius', `playbook ${input.playbook} touched ${recent.size} target(s) in the last ${input.window} (limit ${input.targets})`);
  }
  return {
    gate: 'blast-radius',
    outcome: 'block',
    reason: `blast radius: playbook ${input.playbook} already touched ${recent.size} targets in the last ${input.window} (limit ${input.targets})`,
  };
}

export interface ActionLedger {
  /** Start times (epoch ms) of actions in the last hour, for this target and globally. */
  targetStarts: number[];
  globalStarts: number[];
  targetInFlight: number;
  globalInFlight: number;
}

const HOUR = 3_600_000;

export function rateLimitGate(ledger: ActionLedger, limits: Limits, now: number): GateDecision {
  const recent = (starts: number[]): number[] => starts.filter((t) => t > now - HOUR).sort((a, b) => a - b);
  const check = (starts: number[], max: number, scope: string): GateDecision | undefined => {
    const r = recent(starts);
    if (r.length < max) return undefined;
    const freeAt = r[r.length - max]! + HOUR;
    return {
      gate: 'rate-limit',
      outcome: 'wait',
      reason: `${r.length} actions in the last hour ${scope} (limit ${max}); next slot at ${iso(freeAt)}`,
      untilMs: freeAt,
    };
  };
  return (
    check(ledger.targetStarts, limits.maxActionsPerHourPerTarget, 'on this target') ??
    check(ledger.globalStarts, limits.maxActionsPerHourGlobal, 'across medic') ??
    pass('rate-limit', 'within hourly action limits')
  );
}

export function concurrencyGate(ledger: ActionLedger, limits: Limits, now: number): GateDecision {
  if (ledger.targetInFlight >= limits.maxConcurrentPerTarget) {
    return {
      gate: 'concurrency',
      outcome: 'wait',
      reason: `${ledger.targetInFlight} action(s) already running on this target (limit ${limits.maxConcurrentPerTarget})`,
      untilMs: now + RECHECK_MS,
    };
  }
  if (ledger.globalInFlight >= limits.maxConcurrentGlobal) {
    return {
      gate: 'concurrency',
      outcome: 'wait',
      reason: `${ledger.globalInFlight} action(s) running across medic (limit ${limits.maxConcurrentGlobal})`,
      untilMs: now + RECHECK_MS,
    };
  }
  return pass('concurrency', 'within concurrency limits');
}

export function cooldownGate(cooldown: Cooldown | undefined, now: number): GateDecision {
  if (!cooldown || cooldown.until <= now) return pass('cooldown', 'target is not cooling down');
  return {
    gate: 'cooldown',
    outcome: 'block',
    reason: `target is cooling down until ${iso(cooldown.until)} after a failed remediation in ${cooldown.incidentId}`,
  };
}
