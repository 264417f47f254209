import type { App } from '@slack/bolt';
import { VIEWS } from '../../ui/approval.js';
import type { ListenerDeps } from '../../deps.js';
import { denyReasonSubmitted } from './deny-reason.js';

export function register(app: App, deps: ListenerDeps): void {
  app.view(VIEWS.denyReason, denyReasonSubmitted(deps));
}
