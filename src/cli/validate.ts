// `medic validate [paths…]`: checks playbook files the way medic loads them and prints every
// problem as file:line:column: message (the format editors and CI annotate), then a summary.
import { formatProblem, loadPlaybooks } from '../playbooks/load.js';

export interface CommandOutput {
  log: (s: string) => void;
  error: (s: string) => void;
}

export const DEFAULT_PLAYBOOK_PATHS = ['playbooks'];

/** Returns the process exit code: 0 when every file is valid, 1 otherwise. */
export async function validateCommand(paths: string[], out: CommandOutput): Promise<number> {
  const targets = paths.length > 0 ? paths : DEFAULT_PLAYBOOK_PATHS;
  const { playbooks, problems, files } = await loadPlaybooks(targets);
  for (const problem of problems) out.error(formatProblem(problem));
  if (files.length === 0) {
    out.error(`no playbook files found in ${targets.join(', ')} (looked for *.yaml and *.yml)`);
    return 1;
  }
  const broken = new Set(problems.map((p) => p.file)).size;
  out.log(
    problems.length === 0
      ? `${playbooks.length} playbook(s) valid, no problems`
      : `${playbooks.length} playbook(s) valid, ${broken} file(s) with ${problems.length} problem(s)`,
  );
  return problems.length === 0 ? 0 : 1;
}
