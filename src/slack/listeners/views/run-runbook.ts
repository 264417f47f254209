// The /medic run modal's submission: the runbook's zod schema checks the values; problems show
// as field errors in the modal (ack with response_action=errors), a valid run starts at once.
// Who may run it is checked again here, after the ack (it asks Slack about user groups): a
// submission can be sent without the command before it.
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { checkParams, refuseRunner, startRunbook } from '../../runbooks.js';
import { esc } from '../../ui/escape.js';
import { PARAM_ACTION } from '../../ui/runbook.js';
import type { ListenerDeps } from '../../deps.js';

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

export const runRunbookSubmitted =
  (deps: ListenerDeps) =>
  async ({ ack, body, view, client }: Args): Promise<void> => {
    const user = body.user.id;
    const meta = JSON.parse(view.private_metadata || '{}') as { runbook?: string; channel?: string };
    const rb = deps.runbooks().find((r) => r.name === meta.runbook);
    if (!rb) return void (await ack({ response_action: 'errors', errors: {} }));
    const values = Object.fromEntries(Object.entries(view.state.values).map(([k, v]) => [k, v[PARAM_ACTION]?.value ?? undefined]));
    // Only local checks may answer inside the modal: Slack waits 3 seconds for the ack.
    const check = checkParams(rb, values as Record<string, string | undefined>);
    if (!check.ok) return void (await ack({ response_action: 'errors', errors: check.errors }));
    await ack();
    const refused = await refuseRunner(deps.access.allowed, rb, user);
    if (refused) {
      if (meta.channel) await client.chat.postEphemeral({ channel: meta.channel, user, text: `:no_entry: ${esc(refused)}. Nothing was started.` });
      return;
    }
    try {
      const id = await startRunbook(deps, rb, check.params, user);
      if (meta.channel) await client.chat.postEphemeral({ channel: meta.channel, user, text: `:arrow_forward: Runbook *${rb.name}* started: \`${id}\` (its thread is in the incidents channel).` });
    } catch (err) {
      deps.log.error({ err, runbook: rb.name }, 'runbook start failed');
      if (meta.channel) await client.chat.postEphemeral({ channel: meta.channel, user, text: `:warning: Runbook ${rb.name} could not start right now; please try again.` });
    }
  };
