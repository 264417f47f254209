// What every Slack listener gets: Temporal (through the incidents API), access checks, config.
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { IncidentsApi } from '../incidents/api.js';
import type { Runbook } from '../runbooks/schema.js';
import type { Playbook } from '../playbooks/schema.js';
import type { SlackAccess } from './access.js';

export interface ListenerDeps {
  api: IncidentsApi;
  client: Client;
  taskQueue: string;
  access: SlackAccess;
  /** Slack user ids or @group handles allowed to pause/resume. */
  admins: string[];
  log: Logger;
  /** Runbooks /medic run may start (loaded from the config's runbook paths). */
  runbooks: () => Runbook[];
  /** Playbooks the server loaded: their `owners` decide who sees their incidents (src/slack/visibility.ts). */
  playbooks: () => Playbook[];
}
