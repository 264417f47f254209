// The governor's admission of one action (kill switch, deployment marker, cooldown, rate and
// concurrency limits) as a pure function of its ledger, shared by the governor workflow and
// `medic simulate`'s stand-in governor.
import { toMs } from '../playbooks/duration.js';
import type { Limits } from '../playbooks/schema.js';
import {
  combine,
  concurrencyGate,
  cooldownGate,
  deploymentGate,
  killSwitchGate,
  rateLimitGate,
  windowBudgetGate,
  type Cooldown,
  type DeploymentMarker,
  type GateDecision,
  type PauseState,
} from './gates.js';
import type { GovernorFacts } from './opa.js';

export interface AdmissionLedger {
  pause: PauseState;
  starts: { target: string; at: number }[];
  inFlight: Record<string, string[]>;
  cooldowns: Record<string, Cooldown>;
  deployments: Record<string, DeploymentMarker>;
  /** Per playbook: the targets it acted on lately (latest time per target), for
   * limits.maxTargetsPerWindow. Absent in state carried from before it existed. */
  touched?: Record<string, { target: string; at: number }[]>;
  /** Open incidents by workflow id (last heard from), for the OPA gate's facts. */
  incidents?: Record<string, number>;
}

/** The longest window maxTargetsPerWindow may have: older entries are pruned whatever it says. */
export const MAX_BUDGET_WINDOW_MS = 86_400_000;

/** Notes that `playbook` acted on `target` now, keeping only entries inside its window. */
export function recordTouch(s: AdmissionLedger, playbook: string, target: string, limits: Limits, now: number): void {
  const windowMs = limits.maxTargetsPerWindow ? toMs(limits.maxTargetsPerWindow.window) : MAX_BUDGET_WINDOW_MS;
  const touched = (s.touched ??= {});
  touched[playbook] = [...(touched[playbook] ?? []).filter((t) => t.target !== target && t.at > now - windowMs), { target, at: now }];
}

/** Drops what no window can still count (bounded governor state). */
export function pruneTouched(s: AdmissionLedger, now: number): void {
  for (const [pb, list] of Object.entries(s.touched ?? {})) {
    const kept = list.filter((t) => t.at > now - MAX_BUDGET_WINDOW_MS);
    if (kept.length === 0) delete s.touched![pb];
    else s.touched![pb] = kept;
  }
}

/** The governor's gates for one action. With `playbook`, its window budget counts too. */
export function admissionGates(
  s: AdmissionLedger,
  target: string,
  limits: Limits,
  now: number,
  playbook?: string,
): { decisions: GateDecision[]; allowed: boolean } {
  const ledger = {
    targetStarts: s.starts.filter((x) => x.target === target).map((x) => x.at),
    globalStarts: s.starts.map((x) => x.at),
    targetInFlight: s.inFlight[target]?.length ?? 0,
    globalInFlight: Object.values(s.inFlight).reduce((n, l) => n + l.length, 0),
  };
  const decisions = [
    killSwitchGate(s.pause, now),
    deploymentGate({ labelActive: false, label: '', marker: s.deployments[target] }, now),
    cooldownGate(s.cooldowns[target], now),
    rateLimitGate(ledger, limits, now),
    concurrencyGate(ledger, limits, now),
  ];
  const budget = limits.maxTargetsPerWindow; // absent in limits carried from before it existed
  if (playbook !== undefined && budget) {
    const windowMs = toMs(budget.window);
    decisions.push(windowBudgetGate({ playbook, target, touched: s.touched?.[playbook] ?? [], targets: budget.targets, window: budget.window, windowMs }, now));
  }
  return { decisions, allowed: combine(decisions).verdict === 'allow' };
}

/** The governor's facts the OPA gate sees (src/policy/opa.ts): open incidents, the actions of
 * the last hour (newest 100) and active deployment markers. */
export function governorFacts(s: Pick<AdmissionLedger, 'starts' | 'deployments' | 'incidents'>, now: number): GovernorFacts {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    openIncidents: Object.keys(s.incidents ?? {}).length,
    recentActions: s.starts
      .filter((x) => x.at > now - 3_600_000)
      .slice(-100)
      .map((x) => ({ target: x.target, at: iso(x.at) })),
    deployments: Object.fromEntries(Object.entries(s.deployments).filter(([, d]) => d.until > now).map(([t, d]) => [t, { until: iso(d.until), by: d.by }])),
  };
}
