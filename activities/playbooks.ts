// The worker's playbook registry as an activity: an incident workflow asks, at its start, for the
// playbook its input names (name + content hash) and runs the body returned here — the one this
// worker loaded from its own files — never a body carried by the input (src/playbooks/registry.ts).
import type { Playbook } from '../src/playbooks/schema.js';
import { playbookRegistry, type PlaybookLookup } from '../src/playbooks/registry.js';
import type { PlaybookRef } from '../src/playbooks/hash.js';

export interface PlaybookDeps {
  /** The worker's loaded playbooks and runbooks; absent: none, so every incident escalates. */
  playbooks?: () => readonly Playbook[];
}

export function createPlaybookActivities(deps: PlaybookDeps) {
  const registry = playbookRegistry(deps.playbooks ?? (() => []));
  return {
    /** Run as a local activity: the answer comes from the worker running the workflow task. */
    async loadedPlaybook(ref: PlaybookRef): Promise<PlaybookLookup> {
      return registry.lookup(ref);
    },
  };
}
