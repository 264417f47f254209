// Pre-builds the workflow bundle for production workers (MEDIC_WORKFLOW_BUNDLE=dist/workflow-bundle.js).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { BUNDLE_OPTIONS } from '../src/temporal/worker.js';

const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
const { code } = await bundleWorkflowCode(BUNDLE_OPTIONS);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, code);
console.log(`workflow bundle written to ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
