// Bundles the workflow code once per run (bundling takes seconds) and checks that the real
// Temporal parts are provisioned: a missing part fails the run loudly, it never skips tests.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { BUNDLE_OPTIONS } from '../../src/temporal/worker.js';
import { BUNDLE_PATH, temporalCliPath, testServerPath } from './paths.js';

export default async function setup(): Promise<void> {
  for (const p of [temporalCliPath(), testServerPath()]) {
    if (!existsSync(p)) throw new Error(`missing ${p}: run "bash scripts/provision.sh" (npm test does it for you)`);
  }
  const { code } = await bundleWorkflowCode(BUNDLE_OPTIONS);
  await mkdir(dirname(BUNDLE_PATH), { recursive: true });
  await writeFile(BUNDLE_PATH, code);
}
