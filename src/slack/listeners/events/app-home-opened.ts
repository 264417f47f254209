// Opening medic's App Home publishes a fresh view for that user.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { publishHome } from '../../home.js';
import type { ListenerDeps } from '../../deps.js';

export const appHomeOpened =
  (deps: ListenerDeps) =>
  async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    if (event.tab !== 'home') return;
    try {
      await publishHome(deps, client, event.user);
    } catch (err) {
      deps.log.error({ err, user: event.user }, 'could not publish App Home');
    }
  };
