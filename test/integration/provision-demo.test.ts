// `npm start`'s provisioning (scripts/provision.sh --demo) for real, in an empty cache directory:
// with a `temporal` on PATH it installs and builds nothing (every installer on PATH is a shim that
// records its calls), and with no `temporal`, no Go and no internet it fails with one message
// naming the three ways to get a Temporal server, leaving nothing behind.
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, temporalCliPath } from '../support/paths.js';

// What the full provisioning runs (and the demo's must not): package managers, compilers, fetchers.
const INSTALLERS = ['go', 'apt-get', 'apt', 'dpkg', 'pip', 'pip3', 'python3', 'mvn', 'java', 'npm', 'npx', 'curl', 'wget', 'helm', 'docker-compose', 'initdb'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function provisionDemo(env: Record<string, string>, root = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    execFile('bash', [join(root, 'scripts/provision.sh'), '--demo'], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** PATH without the directories holding a `go` or `temporal` executable. */
function pathWithout(...names: string[]): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d && !names.some((n) => existsSync(join(d, n))))
    .join(delimiter);
}

async function listTree(dir: string, prefix = ''): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(prefix + e.name);
    if (e.isDirectory()) out.push(...(await listTree(join(dir, e.name), `${prefix}${e.name}/`)));
  }
  return out.sort();
}

let work: string;
let shims: string; // recording shims for every installer, plus a `temporal` symlink in onPath
let calls: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'medic-provision-demo-'));
  shims = join(work, 'shims');
  calls = join(work, 'calls.log');
  await mkdir(shims);
  for (const name of INSTALLERS) {
    const shim = join(shims, name);
    await writeFile(shim, `#!/bin/sh\necho "${name} $*" >>"${calls}"\nexit 1\n`);
    await chmod(shim, 0o755);
  }
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('npm start provisioning (scripts/provision.sh --demo)', () => {
  it('with a temporal on PATH: takes it, says so, and installs or builds nothing else', async () => {
    const onPath = join(work, 'on-path');
    await mkdir(onPath);
    await symlink(temporalCliPath(), join(onPath, 'temporal'));
    const cache = join(work, 'cache-path');
    const r = await provisionDemo({
      PATH: [onPath, shims, pathWithout('go', 'temporal')].join(delimiter),
      HOME: process.env.HOME ?? work,
      MEDIC_CACHE_DIR: cache,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`medic: Temporal CLI 1\\.\\d+\\.\\d+ .*: ${join(onPath, 'temporal')} — the temporal on PATH\\n`));
    expect(r.stdout).toMatch(/medic: detection: (Prometheus \+ Alertmanager found on PATH|medic's built-in health watcher)/);
    // no installer ran, and the cache holds the demo's choice and nothing else
    expect(existsSync(calls) ? await readFile(calls, 'utf8') : '').toBe('');
    expect(await listTree(cache)).toEqual(['demo.env']);
    expect(await readFile(join(cache, 'demo.env'), 'utf8')).toBe(`MEDIC_TEMPORAL_CLI=${join(onPath, 'temporal')}\n`);
  });

  it('with no temporal on PATH: takes the cached binary, and still runs no installer', async () => {
    const cache = join(work, 'cache-cached');
    await mkdir(join(cache, 'bin'), { recursive: true });
    await symlink(temporalCliPath(), join(cache, 'bin', 'temporal'));
    const r = await provisionDemo({ PATH: [shims, pathWithout('go', 'temporal')].join(delimiter), HOME: process.env.HOME ?? work, MEDIC_CACHE_DIR: cache });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`: ${join(cache, 'bin', 'temporal')} — cached in ${join(cache, 'bin')}`);
    expect(existsSync(calls) ? await readFile(calls, 'utf8') : '').toBe('');
    expect(await listTree(cache)).toEqual(['bin', 'bin/temporal', 'demo.env']);
  });

  it('MEDIC_TEMPORAL_CLI naming no Temporal CLI: refused, naming the variable', async () => {
    const cache = join(work, 'cache-bad-env');
    const r = await provisionDemo({ PATH: pathWithout('go', 'temporal'), HOME: process.env.HOME ?? work, MEDIC_CACHE_DIR: cache, MEDIC_TEMPORAL_CLI: '/bin/true' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MEDIC_TEMPORAL_CLI=/bin/true is not a working Temporal CLI');
    expect(existsSync(cache)).toBe(false);
  });

  it('no temporal, no Go, no internet: one message naming the three ways, exit 1, nothing left behind', async () => {
    const cache = join(work, 'cache-none');
    const tmp = join(work, 'tmp'); // where the download would have been unpacked
    await mkdir(tmp);
    const r = await provisionDemo({
      PATH: pathWithout('go', 'temporal'),
      HOME: process.env.HOME ?? work,
      MEDIC_CACHE_DIR: cache,
      TMPDIR: tmp,
      // no internet, whatever this machine has: the SDK's download (reqwest) goes through a closed port
      HTTPS_PROXY: 'http://127.0.0.1:9',
      MEDIC_TEMPORAL_DOWNLOAD_TIMEOUT: '30',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('medic: cannot download the Temporal dev server: ');
    expect(r.stderr).toMatch(/^medic: no Temporal server for the demo\. Any one of these works:\n/);
    expect(r.stderr).toContain('install the Temporal CLI and put `temporal` on PATH');
    expect(r.stderr).toContain('MEDIC_TEMPORAL_CLI');
    expect(r.stderr).toContain('connect to the internet, so the Temporal SDK can download the dev server');
    expect(r.stderr).toContain('install Go >= 1.25');
    expect(r.stderr.match(/^medic: /gm)).toHaveLength(1); // one message, not one per attempt
    expect(existsSync(cache)).toBe(false);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('a Node.js older than package.json engines: one message with the fix, before anything else', async () => {
    // a copy of the scripts beside a package.json asking for a Node no machine has
    const root = join(work, 'future-node');
    await cp(join(ROOT, 'scripts'), join(root, 'scripts'), { recursive: true, filter: (src) => !statSync(src).isDirectory() || !src.endsWith('kubernetes') });
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    pkg.engines.node = '>=99.1';
    await writeFile(join(root, 'package.json'), JSON.stringify(pkg, null, 2));
    const cache = join(work, 'cache-node');
    const r = await provisionDemo({ PATH: [shims, process.env.PATH].join(delimiter), HOME: process.env.HOME ?? work, MEDIC_CACHE_DIR: cache }, root);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `medic: Node.js v${process.versions.node} is too old: medic needs node >=99.1 (package.json engines); fix: install Node.js 24 LTS (nvm install 24, fnm install 24, or https://nodejs.org/en/download), then run npm ci again\n`,
    );
    expect(existsSync(cache)).toBe(false);
  });
});
