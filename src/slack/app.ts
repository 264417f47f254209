// The Slack app: real Bolt, receiving on medic's HTTP server through FastifyReceiver (or over
// Socket Mode with an app token), its listeners registered by kind. Built only when the config
// has a `slack` section.
import { App, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Runbook } from '../runbooks/schema.js';
import type { Playbook } from '../playbooks/schema.js';
import { incidentsApi } from '../incidents/api.js';
import type { AuditLog } from '../audit/log.js';
import { slackAccess } from './access.js';
import type { ListenerDeps } from './deps.js';
import { FastifyReceiver } from './receiver.js';
import * as actions from './listeners/actions/index.js';
import * as commands from './listeners/commands/index.js';
import * as events from './listeners/events/index.js';
import * as views from './listeners/views/index.js';

export type SlackConfig = NonNullable<Config['slack']>;

/** Bolt's logger interface over pino, so Slack logs land with medic's. */
function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.WARN;
  return {
    debug: (...m: unknown[]) => log.debug(m.join(' ')),
    info: (...m: unknown[]) => log.info(m.join(' ')),
    warn: (...m: unknown[]) => log.warn(m.join(' ')),
    error: (...m: unknown[]) => log.error(m.join(' ')),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

export interface SlackAppDeps {
  slack: SlackConfig;
  client: Client;
  taskQueue: string;
  log: Logger;
  audit?: AuditLog;
  runbooks?: () => Runbook[];
  /** Playbooks the server loaded: their owners decide who sees their incidents. */
  playbooks?: () => Playbook[];
  /** Signs the identity of whoever clicks (src/identity/sign.ts). */
  identityKey?: Buffer;
}

export function createSlackApp(deps: SlackAppDeps) {
  const log = deps.log.child({ component: 'slack' });
  const apiUrl = deps.slack.apiUrl ? { slackApiUrl: deps.slack.apiUrl } : {};
  // Socket Mode (an app token): medic connects out to Slack, nothing listens on /slack/events.
  const socket = deps.slack.appToken
    ? new SocketModeReceiver({ appToken: deps.slack.appToken, logger: boltLogger(log), installerOptions: { clientOptions: apiUrl } })
    : undefined;
  const receiver = socket ?? new FastifyReceiver({ signingSecret: deps.slack.signingSecret, log });
  const bolt = new App({
    token: deps.slack.botToken,
    receiver,
    logger: boltLogger(log),
    clientOptions: {
      ...apiUrl,
      retryConfig: { retries: 5, factor: 1.6, minTimeout: 250, maxTimeout: 5_000 },
    },
  });
  const listenerDeps: ListenerDeps = {
    // Pauses from Slack are audited; decisions, takes and resolves are signed with the identity key.
    api: incidentsApi(deps.client, deps.taskQueue, { ...(deps.audit ? { audit: deps.audit } : {}), ...(deps.identityKey ? { identityKey: deps.identityKey } : {}) }),
    client: deps.client,
    taskQueue: deps.taskQueue,
    access: slackAccess(bolt.client, log),
    admins: deps.slack.admins,
    log,
    runbooks: deps.runbooks ?? (() => []),
    playbooks: deps.playbooks ?? (() => []),
  };
  actions.register(bolt, listenerDeps);
  views.register(bolt, listenerDeps);
  commands.register(bolt, listenerDeps);
  events.register(bolt, listenerDeps);
  // Either way it lives and dies with medic's HTTP server.
  const plugin = socket
    ? async (f: FastifyInstance): Promise<void> => {
        f.addHook('onReady', async () => void (await bolt.start()));
        f.addHook('onClose', async () => void (await bolt.stop()));
      }
    : (receiver as FastifyReceiver).plugin;
  return { bolt, receiver, plugin };
}
