// PagerDuty Events API v2 through @pagerduty/pdjs: trigger (page) and resolve, dedup_key = the
// incident id. Factory over pdjs's `event` function, the Events API host and an optional
// https.Agent (the local stand-in's CA); the routing key comes from a secret, so it never enters
// workflow history. 202 → done; 429, 5xx and network errors throw a retryable error (the
// activity's retry policy backs off); any other 4xx is permanent (non-retryable).
import type { Agent } from 'node:https';
import type { EventParameters, EventPromise } from '@pagerduty/pdjs/build/src/events.js';
import { ApplicationFailure } from '@temporalio/activity';
import type { PageContent } from '../workflows/page.js';
import { requireSecret } from './secrets.js';

export interface PagerDutyDeps {
  event: (params: EventParameters) => EventPromise;
  /** Events API host (default events.pagerduty.com); pdjs always uses https. */
  server?: string;
  /** Trust for a private endpoint (the stand-in); otherwise system CAs + NODE_EXTRA_CA_CERTS. */
  agent?: Agent;
  secret: (name: string) => string | undefined;
  timeoutMs?: number;
  /** pdjs itself retries a 429 three times after this pause before answering; keep it short. */
  throttlePauseMs?: number;
}

export interface PagerDutyTriggerInput {
  routingKeySecret: string;
  page: PageContent;
}
export interface PagerDutyResolveInput {
  routingKeySecret: string;
  dedupKey: string;
}
export interface PagerDutySendResult {
  action: 'trigger' | 'resolve';
  status: number;
  dedupKey: string;
  message: string;
}

export function createPagerDutyActivities(deps: PagerDutyDeps) {
  const routingKey = (name: string): string => requireSecret(deps.secret, name, 'PagerDuty routing key');

  async function send(data: EventParameters['data']): Promise<PagerDutySendResult> {
    const action = data.event_action as 'trigger' | 'resolve';
    let res: Awaited<EventPromise>;
    try {
      res = await deps.event({
        data,
        ...(deps.server ? { server: deps.server } : {}),
        // node-fetch (under pdjs) takes `agent` and `timeout`; requestTimeout 0 avoids pdjs's idle timer
        ...({ agent: deps.agent, timeout: deps.timeoutMs ?? 10_000 } as object),
        requestTimeout: 0,
        retryTimeout: deps.throttlePauseMs ?? 1_000,
      });
    } catch (err) {
      // network error, TLS failure, timeout, or a non-JSON answer (e.g. a proxy's 502 page)
      throw new Error(`PagerDuty ${action} failed: ${(err as Error).message}`, { cause: err });
    }
    const body = (res.data ?? {}) as { status?: string; message?: string; dedup_key?: string; errors?: string[] };
    if (res.status === 202) {
      return { action, status: res.status, dedupKey: body.dedup_key ?? data.dedup_key ?? '', message: body.message ?? body.status ?? 'accepted' };
    }
    const detail = [body.message ?? body.status, ...(body.errors ?? [])].filter(Boolean).join('; ');
    const retryable = res.status === 429 || res.status >= 500 || res.status === 408;
    throw ApplicationFailure.create({
      type: res.status === 429 ? 'PagerDutyThrottled' : retryable ? 'PagerDutyUnavailable' : 'PagerDutyRejected',
      nonRetryable: !retryable,
      message: `PagerDuty answered ${res.status} to ${action}: ${detail || 'no details'}`,
      details: [{ status: res.status, errors: body.errors ?? [] }],
    });
  }

  return {
    async pagerdutyTrigger({ routingKeySecret, page }: PagerDutyTriggerInput): Promise<PagerDutySendResult> {
      return send({
        routing_key: routingKey(routingKeySecret),
        event_action: 'trigger',
        dedup_key: page.dedupKey,
        payload: {
          summary: page.summary,
          source: page.source,
          severity: page.severity,
          timestamp: page.timestamp,
          ...(page.component ? { component: page.component } : {}),
          ...(page.group ? { group: page.group } : {}),
          ...(page.class ? { class: page.class } : {}),
          custom_details: page.customDetails,
        },
        links: page.links,
      });
    },
    async pagerdutyResolve({ routingKeySecret, dedupKey }: PagerDutyResolveInput): Promise<PagerDutySendResult> {
      return send({ routing_key: routingKey(routingKeySecret), event_action: 'resolve', dedup_key: dedupKey } as EventParameters['data']);
    },
  };
}
