// Starting a runbook from Slack: validate its parameters with the runbook's zod schema and start
// the same durable incident workflow an alert would (requested by the Slack user, so four-eyes
// steps exclude them), which then gets its own thread in the incidents channel.
import type { z } from 'zod';
import { ingestAlerts } from '../intake/ingest.js';
import { paramsSchema, runbookAlert, runbookPlaybook, type Runbook } from '../runbooks/schema.js';
import type { ListenerDeps } from './deps.js';

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

export async function startRunbook(deps: ListenerDeps, rb: Runbook, params: Record<string, string>, user: string): Promise<string> {
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
