// medic's one Slack Web API client: pointed at real Slack, or at the local stand-in (apiUrl).
import { LogLevel, WebClient } from '@slack/web-api';

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
