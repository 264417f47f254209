// Starting a runbook from Slack: who may start it (its `runners`), its parameters validated with
// the runbook's zod schema, and the same durable incident workflow an alert would start (requested
// by the Slack user, so four-eyes steps exclude them), which then gets its own thread.
import type { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { ingestAlerts } from '../intake/ingest.js';
import { paramsSchema, runbookAlert, runbookPlaybook, type Runbook } from '../runbooks/schema.js';
import type { SlackAccess } from './access.js';

export type ParamCheck = { ok: true; params: Record<string, string> } | { ok: false; errors: Record<string, string> };

export function checkParams(rb: Runbook, values: Record<string, string | undefined>): ParamCheck {
  const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ''));
  const r = paramsSchema(rb).safeParse(given);
  if (r.success) return { ok: true, params: r.data };
  const errors: Record<string, string> = {};
  for (const issue of (r.error as z.ZodError).issues) {
    const key = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : String(issue.path[0] ?? '');
    errors[key] ??= issue.code === 'unrecognized_keys' ? `unknown parameter (known: ${Object.keys(rb.params).join(', ') || 'none'})` : issue.message;
  }
  return { ok: false, errors };
}

/** Thrown by startRunbook for someone the runbook's `runners` do not list. */
export class RunnerRefusedError extends Error {}

/** Why `user` may not start the runbook, or undefined. Default deny: no runners, nobody. */
export async function refuseRunner(allowed: (list: string[], user: string) => Promise<boolean>, rb: Runbook, user: string): Promise<string | undefined> {
  if (rb.runners.length === 0) return `runbook ${rb.name} lists no runners, so nobody may start it (add \`runners:\` to its YAML)`;
  if (await allowed(rb.runners, user)) return undefined;
  return `${user} may not start runbook ${rb.name}; runners: ${rb.runners.join(', ')}`;
}

export interface RunbookStartDeps {
  client: Client;
  taskQueue: string;
  log: Logger;
  /** Membership of the runners' user ids and @groups (src/slack/access.ts), or a plain list check. */
  access: Pick<SlackAccess, 'allowed'>;
}

export async function startRunbook(deps: RunbookStartDeps, rb: Runbook, params: Record<string, string>, user: string): Promise<string> {
  // Checked here too, so no caller can start a runbook for someone it does not list.
  const refused = await refuseRunner(deps.access.allowed, rb, user);
  if (refused) throw new RunnerRefusedError(refused);
  const pb = runbookPlaybook(rb);
  const r = await ingestAlerts(
    { client: deps.client, taskQueue: deps.taskQueue, playbooks: () => [pb], log: deps.log },
    [runbookAlert(rb, params, user, Date.now())],
    { requestedBy: user },
  );
  const id = r.incidents[0]?.workflowId;
  if (!id) throw new Error(`runbook ${rb.name} did not start`);
  return id;
}
