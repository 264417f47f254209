import type { App } from '@slack/bolt';
import { VIEWS } from '../../ui/approval.js';
import type { ListenerDeps } from '../../deps.js';
import { denyReasonSubmitted } from './deny-reason.js';
import { runRunbookSubmitted } from './run-runbook.js';
import { RUN_VIEW } from '../../ui/runbook.js';

export function register(app: App, deps: ListenerDeps): void {
  app.view(VIEWS.denyReason, denyReasonSubmitted(deps));
  app.view(RUN_VIEW, runRunbookSubmitted(deps));
}
