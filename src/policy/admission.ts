// The governor's admission of one action (kill switch, deployment marker, cooldown, rate and
// concurrency limits) as a pure function of its ledger, shared by the governor workflow and
// `medic simulate`'s stand-in governor.
import type { Limits } from '../playbooks/schema.js';
import {
  combine,
  concurrencyGate,
  cooldownGate,
  deploymentGate,
  killSwitchGate,
  rateLimitGate,
  type Cooldown,
  type DeploymentMarker,
  type GateDecision,
  type PauseState,
} from './gates.js';

export interface AdmissionLedger {
  pause: PauseState;
  starts: { target: string; at: number }[];
  inFlight: Record<string, string[]>;
  cooldowns: Record<string, Cooldown>;
  deployments: Record<string, DeploymentMarker>;
}

export function admissionGates(s: AdmissionLedger, target: string, limits: Limits, now: number): { decisions: GateDecision[]; allowed: boolean } {
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
  return { decisions, allowed: combine(decisions).verdict === 'allow' };
}
