// Whether a drill may break its target: the target must exist in medic's config, be marked
// drillable, and fit the fault. Used by the API (fast, clear refusal) and by the inject activity.
import type { DrillFault, DrillScenario, DrillTarget } from './schema.js';

const FAULT_TARGET: Record<DrillFault['kind'], DrillTarget['kind']> = {
  'demo-fault': 'demo-service',
  'ssm-fill-disk': 'ssm-instance',
  'k8s-scale-to-zero': 'kubernetes-deployment',
  'k8s-delete-pod': 'kubernetes-deployment',
};

/** Why the drill may not touch its target, or undefined when it may. */
export function refuseTarget(targets: Record<string, DrillTarget>, scenario: Pick<DrillScenario, 'target' | 'fault' | 'name'>): string | undefined {
  const t = targets[scenario.target];
  if (!t) return `drill ${scenario.name}: no drill target "${scenario.target}" in medic's config (drills.targets: ${Object.keys(targets).join(', ') || 'none'})`;
  if (!t.drillable) {
    return `drill ${scenario.name}: target "${scenario.target}" is not marked drillable; medic refuses to inject faults into it (set drills.targets.${scenario.target}.drillable: true in medic's config to allow drills)`;
  }
  const needs = FAULT_TARGET[scenario.fault.kind];
  if (needs !== t.kind) return `drill ${scenario.name}: fault ${scenario.fault.kind} needs a ${needs} target; "${scenario.target}" is ${t.kind}`;
  return undefined;
}
