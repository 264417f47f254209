// The worker's own playbooks: what an incident workflow may run. A workflow input names its
// playbook by name + content hash (src/playbooks/hash.ts); the worker answers with the body it
// loaded itself from its own files, never the input's. Anyone who can start workflows on the
// Temporal frontend therefore cannot make the worker run steps it did not load
// (README, "Temporal is the control plane").
import { z } from 'zod';
import { playbookHash, shortHashText, type PlaybookRef } from './hash.js';
import { PlaybookSchema, type Playbook } from './schema.js';
import { formatProblem, loadPlaybooks } from './load.js';
import { loadRunbooks } from '../runbooks/load.js';
import { runbookPlaybook } from '../runbooks/schema.js';

export type PlaybookLookup =
  /** The worker has this exact version: run it. */
  | { kind: 'loaded'; playbook: Playbook; hash: string }
  /** It does not: escalate with `reason`, acting on nothing. `playbook` is the worker's own
   * current version of that name (its escalation ladder pages the right people) or, for a name
   * it does not know, a stand-in with no steps that only records the refusal. */
  | { kind: 'not-loaded'; reason: string; playbook: Playbook; loaded: string[] };

const RefSchema = z.strictObject({
  name: z.string().min(1).max(200),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256)'),
});

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** The input's name is hostile: shown only when it is a valid playbook name. */
const shownName = (name: unknown): string => (typeof name === 'string' && NAME.test(name) ? name : '(invalid name)');

/** The stand-in for a name this worker does not know: no steps (nothing can run), record-only escalation. */
function refusedPlaybook(name: string): Playbook {
  const pb = PlaybookSchema.parse({
    name: NAME.test(name) ? name : 'refused',
    description: 'not loaded by this worker: the incident only records the refusal',
    match: { alertname: '-' },
    holdAfterEscalation: '1h',
    escalation: [{ kind: 'record', to: 'on-call' }],
    steps: [{ name: 'none', action: 'http', params: { url: 'http://invalid.invalid/' } }],
  });
  return { ...pb, steps: [] }; // the workflow goes straight to escalation; a step would be a bug
}

export interface PlaybookRegistry {
  lookup(ref: unknown): PlaybookLookup;
}

/** `source` is read at every lookup: the worker's loaded playbooks and runbooks (as playbooks). */
export function playbookRegistry(source: () => readonly Playbook[]): PlaybookRegistry {
  return {
    lookup(raw) {
      const parsed = RefSchema.safeParse(raw);
      const name = (raw as { name?: unknown } | undefined)?.name;
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'reference'}: ${i.message}`).join('; ');
        return { kind: 'not-loaded', reason: `the incident's playbook reference is invalid (${why}); nothing runs`, playbook: refusedPlaybook(''), loaded: [] };
      }
      const ref: PlaybookRef = parsed.data;
      const versions = source()
        .filter((pb) => pb.name === ref.name)
        .map((pb) => ({ pb, hash: playbookHash(pb) }));
      const exact = versions.find((v) => v.hash === ref.hash);
      if (exact) return { kind: 'loaded', playbook: exact.pb, hash: exact.hash };
      const loaded = versions.map((v) => v.hash);
      if (versions.length === 0) {
        const names = [...new Set(source().map((pb) => pb.name))];
        const list = names.length > 10 ? `${names.slice(0, 10).join(', ')}, … (${names.length})` : names.join(', ') || 'none';
        return {
          kind: 'not-loaded',
          reason: `playbook ${shownName(name)} hash ${shortHashText(ref.hash)} is not loaded by this worker (no playbook of that name; loaded: ${list})`,
          playbook: refusedPlaybook(ref.name),
          loaded,
        };
      }
      return {
        kind: 'not-loaded',
        reason: `playbook ${ref.name} hash ${shortHashText(ref.hash)} is not loaded by this worker (loaded: ${loaded.map(shortHashText).join(', ')})`,
        playbook: versions[versions.length - 1]!.pb,
        loaded,
      };
    },
  };
}

/** What a worker loads at start: its playbooks and its runbooks (as the playbooks they run), from
 * the same files and environment as the server, or their hashes differ and incidents escalate. */
export async function loadRegistryPlaybooks(paths: { playbooks: string[]; runbooks: string[] }): Promise<{ playbooks: Playbook[]; problems: string[] }> {
  const pbs = await loadPlaybooks(paths.playbooks);
  const rbs = await loadRunbooks(paths.runbooks);
  return {
    playbooks: [...pbs.playbooks, ...rbs.runbooks.map(runbookPlaybook)],
    problems: [...pbs.problems.map((p) => `playbook skipped: ${formatProblem(p)}`), ...rbs.problems.map((p) => `runbook skipped: ${p}`)],
  };
}
