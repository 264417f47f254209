// Playbook YAML around one step, and its load problems as `line:column: message`, for tests of
// what the loader accepts and refuses.
import { parsePlaybook } from '../../src/playbooks/load.js';

/** An `ssm` playbook (matching DiskFull) with `step` as its steps and `allow` (a YAML line) before them. */
export const playbook = (step: string, allow = ''): string => `name: ssm
match:
  alertname: DiskFull
${allow}steps:
${step}`;

export const problems = (text: string): string[] => parsePlaybook(text, 'pb.yaml').problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
