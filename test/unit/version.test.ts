// The version a user and an operator see: `medic --version`, the first log line of the app, and
// the build id of the workflow code (docs/operations.md).
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MEDIC_VERSION, workflowBuildId } from '../../src/version.js';
import { ROOT } from '../support/paths.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT });

describe('medic version', () => {
  it('medic --version, -V and `medic version` print the package.json version', async () => {
    expect(MEDIC_VERSION).toBe(pkg.version);
    for (const args of [['--version'], ['-V'], ['version']]) {
      const { stdout } = await cli(...args);
      expect(stdout.trim()).toBe(`medic ${pkg.version}`);
    }
  });

  it('the app logs its version and Node version first thing at start', async () => {
    // A Temporal address nothing listens on: the start line comes before any connection.
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/server/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, MEDIC_TEMPORAL_ADDRESS: '127.0.0.1:1', MEDIC_INTAKE_TOKEN: 'intake-token-0123456789', MEDIC_HTTP_PORT: '0', MEDIC_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const first = await new Promise<Record<string, unknown>>((resolve, reject) => {
        let buffered = '';
        child.stdout!.on('data', (d: Buffer) => {
          buffered += d.toString();
          const line = buffered.split('\n').find((l) => l.startsWith('{'));
          if (line && buffered.includes('\n')) resolve(JSON.parse(line) as Record<string, unknown>);
        });
        child.once('exit', (code) => reject(new Error(`the server exited (${code}) before logging`)));
      });
      expect(first).toMatchObject({ msg: 'medic server starting', version: pkg.version, node: process.version });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the build id is the version plus a hash of the workflow code: same code, same id; any change, another', () => {
    const code = 'export function incidentWorkflow() {}';
    expect(workflowBuildId(code)).toMatch(new RegExp(`^${pkg.version.replace(/\./g, '\\.')}-[0-9a-f]{16}$`));
    expect(workflowBuildId(code)).toBe(workflowBuildId(`${code}`));
    expect(workflowBuildId(`${code} `)).not.toBe(workflowBuildId(code));
  });
});
