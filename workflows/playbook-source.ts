// The START of an incident run: which playbook it runs and its incident id. Both take nothing
// from the input on trust: the playbook is the worker's own loaded copy of the version the input
// names (name + content hash), and the id is derived from the whole first run id.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { playbookRef, sha256Hex, type PlaybookRef } from '../src/playbooks/hash.js';
import type { PlaybookLookup } from '../src/playbooks/registry.js';
import type { IncidentInput, RunningIncidentInput } from './contracts.js';

/** Answered by a medic worker from the files it loaded (every worker of a deployment loads the
 * same ones). */
const registry = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '2m',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 10 },
});

/** Incident id suffix: 16 hex characters of SHA-256 over the whole first run id. Run ids are
 * UUIDv7, so a prefix is a timestamp that runs started within ~65 s share. */
export const incidentIdSuffix = (firstExecutionRunId: string): string => sha256Hex(firstExecutionRunId).slice(0, 16);

/** The incident id for this run (the same across continue-as-new: it is derived from the first run). */
export function incidentIdOf(workflowId: string, firstExecutionRunId: string): string {
  return `${workflowId}:${incidentIdSuffix(firstExecutionRunId)}`;
}

export interface PlaybookSource {
  input: RunningIncidentInput;
  /** Set when the worker does not hold the version the input names: escalate with this, act on nothing. */
  refusal?: { reason: string; ref: PlaybookRef | undefined; loaded: string[] };
}

/** Resolves the playbook this run executes. */
export async function playbookSource(raw: IncidentInput): Promise<PlaybookSource> {
  // An input with only a body (a client from before the registry): its hash names the worker's copy.
  const ref = raw.playbookRef ?? (raw.playbook && typeof raw.playbook === 'object' ? playbookRef(raw.playbook) : undefined);
  const found: PlaybookLookup = await registry.loadedPlaybook(ref ?? ({ name: '', hash: '' } as PlaybookRef));
  const { playbook: _untrusted, ...rest } = raw;
  if (found.kind === 'loaded') return { input: { ...rest, playbookRef: { name: found.playbook.name, hash: found.hash }, playbook: found.playbook } };
  return {
    input: { ...rest, ...(ref ? { playbookRef: ref } : {}), playbook: found.playbook },
    refusal: { reason: found.reason, ref, loaded: found.loaded },
  };
}
