// The kill-switch button on App Home: admins only (the same rule as /medic pause); anyone else
// sees why on their Home and nothing changes.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { publishHome } from '../../home.js';
import type { ListenerDeps } from '../../deps.js';

type Args = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

export const togglePause =
  (deps: ListenerDeps) =>
  async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    const user = body.user.id;
    const pause = action.value === 'pause';
    let notice: string;
    if (!(await deps.access.allowed(deps.admins, user))) {
      notice = `Only medic admins may ${pause ? 'pause' : 'resume'} automation; nothing was changed.`;
    } else {
      try {
        await deps.api.setPaused(pause, user, pause ? 'paused from App Home' : undefined);
        notice = pause ? 'You paused automation.' : 'You resumed automation.';
      } catch (err) {
        deps.log.error({ err }, 'kill switch from App Home failed');
        notice = 'medic could not change the kill switch right now; please try again.';
      }
    }
    await publishHome(deps, client, user, notice);
  };
