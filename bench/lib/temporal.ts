// What the worker-process benches share at start: an in-memory Temporal dev server, a client on
// it, and the workflow bundle written once into a temp dir their worker processes load.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { startTemporalDevServer } from '../../dev/temporal-dev-server.js';

export async function startBenchTemporal(root: string, name: string, workflowsPath: string) {
  const temporal = await startTemporalDevServer({ root, ui: false });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const dir = await mkdtemp(join(tmpdir(), `medic-${name}-`));
  const bundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, (await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('ERROR') })).code);
  return { temporal, connection, client, dir, bundlePath };
}
