// medic's version (package.json, so `medic --version`, the logs and the image agree) and the
// build id of a workflow bundle: the version plus a hash of the bundle's code, so two workers
// share a build id only when they run byte-identical workflow code (worker versioning:
// docs/operations.md "Upgrades").
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const MEDIC_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** `<version>-<first 16 hex digits of the bundle's SHA-256>`, e.g. 0.2.0-3f9c0d2ab41e7781. */
export function workflowBuildId(bundleCode: string): string {
  return `${MEDIC_VERSION}-${createHash('sha256').update(bundleCode).digest('hex').slice(0, 16)}`;
}
