import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE_PATH = join(ROOT, '.cache', 'test', 'workflow-bundle.js');
export const temporalCliPath = (): string => process.env.MEDIC_TEMPORAL_CLI ?? join(ROOT, '.cache/bin/temporal');
export const testServerPath = (): string =>
  process.env.MEDIC_TEMPORAL_TEST_SERVER ?? join(ROOT, '.cache/bin/temporal-test-server');
/** Open Policy Agent (scripts/provision-opa.sh): the policy gate's server, Wasm builds, `opa test`. */
export const opaPath = (): string => process.env.MEDIC_OPA ?? join(ROOT, '.cache/bin/opa');
