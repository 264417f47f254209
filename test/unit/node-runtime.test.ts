// scripts/node.sh: the npm scripts, provisioning and CI run on Node 24 even where the machine's
// `node` is older — the provisioned one (.cache/node, or $MEDIC_CACHE_DIR/node) goes first on
// PATH and native modules are built against its headers; MEDIC_NODE=system keeps the machine's
// only when it satisfies engines, else one message with the fix.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';

const run = promisify(execFile);
const SCRIPT = join(ROOT, 'scripts/node.sh');

let work: string;
let oldNode: string; // a directory whose `node` says it is Node 20
let cache: string; // a cache already holding the pinned Node 24 (no fetch in a unit test)
let node24: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'medic-node-sh-'));
  oldNode = join(work, 'old');
  await mkdir(oldNode);
  await writeFile(join(oldNode, 'node'), '#!/bin/sh\necho 20.19.0\n');
  await chmod(join(oldNode, 'node'), 0o755);
  // the pinned version's directory, as provisioning leaves it
  const { stdout } = await run('bash', [SCRIPT, '--print', '24']);
  node24 = stdout.trim();
  const version = dirname(node24).split('/').at(-1)!;
  cache = join(work, 'cache');
  await mkdir(join(cache, 'node'), { recursive: true });
  await symlink(dirname(node24), join(cache, 'node', version));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({ ...process.env, PATH: [oldNode, process.env.PATH].join(delimiter), MEDIC_CACHE_DIR: cache, ...extra });

describe('scripts/node.sh', () => {
  it('with an older node on PATH, runs the command on the provisioned Node 24 and builds native modules against its headers', async () => {
    const { stdout } = await run('bash', [SCRIPT, 'bash', '-c', 'node --version; command -v node; echo "$npm_config_nodedir"'], { env: env() });
    const [version, path, nodedir] = stdout.trim().split('\n');
    expect(version).toMatch(/^v24\./);
    expect(path).toBe(join(cache, 'node', dirname(node24).split('/').at(-1)!, 'bin', 'node'));
    expect(nodedir).toBe(join(cache, 'node', dirname(node24).split('/').at(-1)!));
  });

  it('MEDIC_NODE=system with a node older than engines: refused with the fix, the command not run', async () => {
    const r = await run('bash', [SCRIPT, 'bash', '-c', 'echo ran'], { env: env({ MEDIC_NODE: 'system' }) }).then(
      () => ({ code: 0, stdout: 'ran', stderr: '' }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('MEDIC_NODE=system but node is 20.19.0; medic needs Node.js >= 22.12.0');
  });

  it('--print takes 22 or 24 only', async () => {
    await expect(run('bash', [SCRIPT, '--print', '20'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('22 or 24') });
  });
});
