// Bundles the workflow code once per run (bundling takes seconds), makes the time-skipping test
// server's start-up archive, and checks that the real Temporal parts are provisioned: a missing
// part fails the run loudly, it never skips tests.
// Three projects name this setup (vitest runs it once per project, in the one main process),
// so the bundle is built once per process; and across runs it is rebuilt only when a source it
// may be built from (workflows/, src/, activities/, the lockfile) has changed.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { BUNDLE_OPTIONS } from '../../src/temporal/worker.js';
import { BUNDLE_PATH, opaPath, ROOT, temporalCliPath, testServerPath } from './paths.js';
import { kafkaRunClassPath, natsServerPath } from '../../dev/buses.js';
import { makeTestServerArchive } from './test-server-cds.js';
import { ANSIBLE_PLAYBOOK } from './ansible.js';
import { temporalServerParts } from '../../dev/temporal-server.js';

const SOURCES = ['workflows', 'src', 'activities'];
const KEY_PATH = `${BUNDLE_PATH}.key`;

/** SHA-256 over the path and content of every source file the bundle may include. */
function sourcesKey(): string {
  const hash = createHash('sha256').update(JSON.stringify(BUNDLE_OPTIONS));
  const files = SOURCES.flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)),
  ).filter((f) => /\.(ts|js|json)$/.test(f));
  for (const f of [...files.sort(), 'package-lock.json']) {
    const path = join(ROOT, f);
    if (existsSync(path)) hash.update(f).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

async function bundle(): Promise<void> {
  const key = sourcesKey();
  if (existsSync(BUNDLE_PATH) && (await readFile(KEY_PATH, 'utf8').catch(() => '')) === key) return;
  const { code } = await bundleWorkflowCode(BUNDLE_OPTIONS);
  await mkdir(dirname(BUNDLE_PATH), { recursive: true });
  // Written aside and renamed: a test never reads half a bundle.
  await writeFile(`${BUNDLE_PATH}.tmp`, code);
  await rename(`${BUNDLE_PATH}.tmp`, BUNDLE_PATH);
  await writeFile(KEY_PATH, key);
}

const once = globalThis as { medicBundle?: Promise<void>; medicCds?: Promise<void> };

export default async function setup(): Promise<void> {
  // the production engine (scripts/provision-temporal-server.sh): server, schema tool and schema
  const engine = Object.values(temporalServerParts(ROOT));
  for (const p of [temporalCliPath(), testServerPath(), opaPath(), natsServerPath(), kafkaRunClassPath(), ANSIBLE_PLAYBOOK, '/usr/sbin/sshd', ...engine]) {
    if (!existsSync(p)) throw new Error(`missing ${p}: run "bash scripts/provision.sh" (npm test does it for you)`);
  }
  once.medicBundle ??= bundle();
  once.medicCds ??= makeTestServerArchive(); // test/support/test-server-cds.ts
  await Promise.all([once.medicBundle, once.medicCds]);
}
