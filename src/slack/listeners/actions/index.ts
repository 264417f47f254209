import type { App } from '@slack/bolt';
import type { BlockButtonAction } from '@slack/bolt';
import { ACTIONS } from '../../ui/approval.js';
import type { ListenerDeps } from '../../deps.js';
import { approveStep } from './approve.js';
import { denyStep } from './deny.js';
import { togglePause } from './toggle-pause.js';
import { LADDER_ACTIONS } from '../../ui/ladder.js';
import { resolveIncident } from './resolve.js';
import { takeIncident } from './take.js';
import { HOME_ACTIONS } from '../../ui/home.js';
import { SNOOZE_ACTION_PATTERN } from '../../ui/snooze.js';
import { snoozeIncident } from './snooze.js';

export function register(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTIONS.approve, approveStep(deps));
  app.action<BlockButtonAction>(ACTIONS.deny, denyStep(deps));
  app.action<BlockButtonAction>(HOME_ACTIONS.togglePause, togglePause(deps));
  app.action<BlockButtonAction>(LADDER_ACTIONS.take, takeIncident(deps));
  app.action<BlockButtonAction>(LADDER_ACTIONS.resolve, resolveIncident(deps));
  app.action<BlockButtonAction>({ action_id: SNOOZE_ACTION_PATTERN }, snoozeIncident(deps));
}
