// Runs the medic CLI (bin/medic.js) as its own process, from /tmp (or `cwd`), with `env` laid over
// this process's environment. A non-zero exit is a result to assert on, not a throw.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './paths.js';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** The CLI against a running medic, as the operator `token` maps to. */
export const cliAgainst =
  (m: { url: string }) =>
  (token: string, ...args: string[]): Promise<CliResult> =>
    runMedicCli(args, { MEDIC_URL: m.url, MEDIC_TOKEN: token });

export async function runMedicCli(args: string[], env: Record<string, string | undefined> = {}, cwd = '/tmp'): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/medic.js'), ...args], { cwd, env: { ...process.env, ...env } });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}
