// /medic status [incident] | incidents | run | pause [reason] | resume | help. Answers are
// ephemeral (only the person who typed sees them); pause/resume are for the configured admins
// only, a runbook for its `runners`; status and incidents show only the incidents the user may
// see (playbook owners, src/slack/visibility.ts) and say how many were hidden.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { NotFoundError } from '../../../incidents/api.js';
import { HELP, incidentsText, incidentText, overviewText } from '../../ui/command.js';
import { parseKeyValues } from '../../../runbooks/schema.js';
import { checkParams, refuseRunner, startRunbook } from '../../runbooks.js';
import { esc } from '../../ui/escape.js';
import { viewerOf, visibleIncidents } from '../../visibility.js';
import { runModal } from '../../ui/runbook.js';
import type { ListenerDeps } from '../../deps.js';

type Args = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export const medicCommand =
  (deps: ListenerDeps) =>
  async ({ ack, command, client }: Args): Promise<void> => {
    await ack();
    const user = command.user_id;
    const reply = (text: string) => client.chat.postEphemeral({ channel: command.channel_id, user, text });
    const [sub = 'help', ...rest] = command.text.trim().split(/\s+/).filter(Boolean);
    try {
      switch (sub.toLowerCase()) {
        case 'help':
          return void (await reply(HELP));
        case 'incidents': {
          const [list, maySee] = await Promise.all([deps.api.list(), viewerOf(deps, user)]);
          const v = await visibleIncidents(maySee, list);
          return void (await reply(incidentsText(v.shown, v.hidden)));
        }
        case 'status': {
          const maySee = await viewerOf(deps, user);
          if (rest[0]) {
            const d = await deps.api.detail(rest[0]);
            if (!(await maySee(d.status.playbook))) {
              return void (await reply(`:lock: Incident \`${esc(rest[0])}\` belongs to another team (playbook owners decide who sees it).`));
            }
            return void (await reply(incidentText(d.status, d.timeline)));
          }
          const [gov, list] = await Promise.all([deps.api.governorState(), deps.api.list()]);
          const v = await visibleIncidents(maySee, list);
          return void (await reply(overviewText(gov.pause, v.shown, v.hidden)));
        }
        case 'run': {
          const [name, ...args] = rest;
          const rb = deps.runbooks().find((r) => r.name === name);
          if (!rb) {
            const known = deps.runbooks().map((r) => `\`${r.name}\``).join(', ') || 'none configured';
            return void (await reply(`${name ? `No runbook \`${esc(name)}\`.` : 'Which runbook?'} Runbooks: ${known}.`));
          }
          // Before the modal: someone the runbook does not list is told at once, and nothing starts.
          const refused = await refuseRunner(deps.access.allowed, rb, user);
          if (refused) return void (await reply(`:no_entry: ${esc(refused)}. Nothing was started.`));
          const { values, stray } = parseKeyValues(args.join(' '));
          const check = checkParams(rb, values);
          // Anything missing or wrong: the modal shows every parameter, prefilled, with its rules.
          if (!check.ok || stray.length > 0) {
            await client.views.open({ trigger_id: command.trigger_id, view: runModal(rb, values, command.channel_id) });
            return;
          }
          const id = await startRunbook(deps, rb, check.params, user);
          return void (await reply(`:arrow_forward: Runbook *${rb.name}* started: \`${id}\` (its thread is in the incidents channel).`));
        }
        case 'pause':
        case 'resume': {
          if (!(await deps.access.allowed(deps.admins, user))) {
            const who = deps.admins.length ? deps.admins.join(', ') : 'nobody is configured (slack.admins)';
            return void (await reply(`:no_entry: Only medic admins may ${sub} automation (admins: ${who}). Nothing was changed.`));
          }
          const reason = rest.join(' ') || undefined;
          const p = await deps.api.setPaused(sub === 'pause', user, reason);
          return void (await reply(p.paused ? `:octagonal_sign: Automation paused${reason ? `: ${reason}` : ''}.` : ':large_green_circle: Automation resumed.'));
        }
        default:
          return void (await reply(`Unknown subcommand \`${sub}\`.\n${HELP}`));
      }
    } catch (err) {
      if (err instanceof NotFoundError) return void (await reply(`:grey_question: ${esc(err.message)}`));
      deps.log.error({ err, sub }, '/medic failed');
      await reply(':warning: medic could not answer right now (Temporal unreachable?). Please try again.');
    }
  };
