import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../../deps.js';
import { medicCommand } from './medic.js';

export function register(app: App, deps: ListenerDeps): void {
  app.command('/medic', medicCommand(deps));
}
