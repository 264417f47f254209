// medic's one Slack Web API client: pointed at real Slack, or at the local stand-in (apiUrl).
import { LogLevel, WebClient } from '@slack/web-api';
import type { SlackSinkDeps } from '../sinks/slack/sink.js';
import type { Config } from '../config.js';
import { slackGraph } from '../graphs/incident-graph.js';

export interface SlackClientOptions {
  botToken: string;
  apiUrl?: string;
  /** Tests shorten this; production keeps retrying (429s and outages) for a couple of minutes. */
  retries?: number;
}

export function slackWebClient(o: SlackClientOptions): WebClient {
  return new WebClient(o.botToken, {
    ...(o.apiUrl ? { slackApiUrl: o.apiUrl } : {}),
    logLevel: LogLevel.ERROR,
    // 429s are waited out (Retry-After) and the call repeated; they count against these retries.
    rejectRateLimitedCalls: false,
    retryConfig: { retries: o.retries ?? 12, factor: 1.6, minTimeout: 250, maxTimeout: 10_000, randomize: true },
  });
}

/** What the worker's Slack sink needs, from the config's `slack` section. */
export function slackSinkDeps(config: Config): SlackSinkDeps | undefined {
  if (!config.slack) return undefined;
  return {
    web: slackWebClient({ botToken: config.slack.botToken, ...(config.slack.apiUrl ? { apiUrl: config.slack.apiUrl } : {}) }),
    channel: config.slack.channel,
    verbosity: config.slack.verbosity,
    temporalUiUrl: config.temporal.uiUrl,
    namespace: config.temporal.namespace,
    ...(config.prometheus ? { graph: slackGraph(config.prometheus.url) } : {}),
  };
}
