// Wires the weekly digest into the worker: checks it has what it needs (Slack, the store),
// builds the digest activity's dependencies and creates or updates its Temporal Schedule.
import type { Client } from '@temporalio/client';
import type { DigestDeps } from '../../activities/digest.js';
import { ConfigError, type Config } from '../config.js';
import { slackWebClient } from '../slack/client.js';
import type { IncidentStore } from '../store/store.js';
import { ensureDigestSchedule } from './schedule.js';

export async function setUpDigest(config: Config, client: Client, store: IncidentStore | undefined): Promise<DigestDeps | undefined> {
  if (!config.digest) return undefined;
  const missing = [...(config.slack ? [] : ['slack']), ...(store ? [] : ['store'])];
  if (missing.length > 0) throw new ConfigError([`digest: needs ${missing.join(' and ')} configured`]);
  await ensureDigestSchedule(client, config.temporal.taskQueue, config.digest);
  return {
    store: store!,
    web: slackWebClient({ botToken: config.slack!.botToken, ...(config.slack!.apiUrl ? { apiUrl: config.slack!.apiUrl } : {}) }),
    channel: config.digest.channel ?? config.slack!.channel,
    slos: config.slos,
    ...(config.prometheus ? { prometheusUrl: config.prometheus.url } : {}),
  };
}
