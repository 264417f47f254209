// Plays Slack's side of interactivity against a Bolt endpoint: builds the payloads Slack sends for
// button clicks, modal submissions and slash commands, as a chosen user, and signs them with the
// app's signing secret (v0: HMAC-SHA256 over "v0:<timestamp>:<raw body>").
import { createHmac } from 'node:crypto';
import type { SlackStandIn, StandInMessage } from './server.js';
import type { EnvelopeType } from './socket.js';

export interface SignedResponse {
  status: number;
  /** Parsed JSON when the body is JSON, else the text (empty for a bare ack). */
  body: unknown;
  /** No answer within Slack's 3 seconds: Slack gave up, and the user sees `operation_timeout`
   * (a warning on the button, "failed with the error operation_timeout" for a command). */
  late?: true;
}

/** Slack waits this long for an app to acknowledge an interaction, command or event. */
export const ACK_DEADLINE_MS = 3_000;
const LATE: SignedResponse = { status: 504, body: { error: 'operation_timeout' }, late: true };

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignOverrides {
  /** Seconds since the epoch to claim; default now. */
  timestamp?: number;
  /** Send this signature instead of the right one (forgery tests). */
  signature?: string;
}

export function slackInteractor(opts: { standIn: SlackStandIn; eventsUrl: string; signingSecret: string; transport?: 'http' | 'socket' }) {
  const { standIn, eventsUrl, signingSecret } = opts;
  /** Socket Mode: the same payloads as envelopes over the app's WebSocket (no signature there). */
  const overSocket = async (type: EnvelopeType, payload: unknown) => {
    const r = await standIn.socket.deliver(type, payload);
    const answer: SignedResponse = r.acked ? { status: 200, body: r.payload ?? '' } : LATE;
    return { ...answer, replay: async () => answer };
  };
  const userRef = (id: string) => {
    const u = standIn.users.get(id);
    return { id, username: u?.name ?? id, name: u?.name ?? id, team_id: standIn.team.id };
  };

  /** Sends a raw body exactly as Slack would, returning the raw request so it can be replayed. */
  async function send(body: string, contentType: string, o: SignOverrides = {}): Promise<SignedResponse & { replay: () => Promise<SignedResponse> }> {
    const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': o.signature ?? slackSignature(signingSecret, timestamp, body),
    };
    const post = async (): Promise<SignedResponse> => {
      // Slack stops waiting after 3 seconds, whatever the app does afterwards.
      const deadline = AbortSignal.timeout(ACK_DEADLINE_MS);
      let text: string;
      let res: Response;
      try {
        res = await fetch(eventsUrl, { method: 'POST', headers, body, signal: deadline });
        text = await res.text();
      } catch (err) {
        if (deadline.aborted) return LATE;
        throw err;
      }
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : '';
      } catch {
        // plain text ack
      }
      return { status: res.status, body: parsed };
    };
    return { ...(await post()), replay: post };
  }

  const interaction = (payload: unknown, o?: SignOverrides) =>
    opts.transport === 'socket' ? overSocket('interactive', payload) : send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded', o);

  type Element = { type: string; action_id?: string; value?: string; text?: unknown };
  type Block = { type: string; block_id?: string; elements?: Element[]; accessory?: Element };
  /** Finds a button (in an actions block or as a section accessory) by action id. */
  function findButton(blocks: unknown[] | undefined, actionId: string): { block: Block; el: Element } | undefined {
    for (const block of (blocks ?? []) as Block[]) {
      const el = [...(block.elements ?? []), ...(block.accessory ? [block.accessory] : [])].find((e) => e.action_id === actionId);
      if (el) return { block, el };
    }
    return undefined;
  }
  const actionOf = (found: { block: Block; el: Element }, actionId: string) => ({
    type: found.el.type,
    action_id: actionId,
    block_id: found.block.block_id ?? '',
    text: found.el.text,
    value: found.el.value,
    action_ts: String(Date.now() / 1000),
  });

  /** Clicks the button with `actionId` in a message the stand-in recorded. */
  function clickButton(user: string, message: StandInMessage, actionId: string, o?: SignOverrides) {
    const found = findButton(message.blocks, actionId);
    if (!found) throw new Error(`no button ${actionId} in message ${message.ts}`);
    const channel = standIn.channels.get(message.channel);
    return interaction(
      {
        type: 'block_actions',
        user: userRef(user),
        api_app_id: 'A0MEDIC',
        token: 'deprecated-verification-token',
        container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) },
        trigger_id: standIn.issueTrigger(user),
        team: standIn.team,
        channel: { id: message.channel, name: channel?.name ?? message.channel },
        message: { type: 'message', user: message.user, ts: message.ts, text: message.text, blocks: message.blocks, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) },
        response_url: `${standIn.url}/response/${message.channel}/${message.ts}`,
        actions: [actionOf(found, actionId)],
      },
      o,
    );
  }

  /** Opens medic's App Home tab (the app_home_opened event, as Events API JSON). */
  function openAppHome(user: string, o?: SignOverrides) {
    const now = Date.now() / 1000;
    const body = {
      token: 'deprecated-verification-token',
      team_id: standIn.team.id,
      api_app_id: 'A0MEDIC',
      type: 'event_callback',
      event_id: `Ev${Math.floor(now * 1000)}`,
      event_time: Math.floor(now),
      event: { type: 'app_home_opened', user, channel: `D${user.slice(1)}`, tab: 'home', event_ts: String(now) },
    };
    return opts.transport === 'socket' ? overSocket('events_api', body) : send(JSON.stringify(body), 'application/json', o);
  }

  /** Clicks a button on the user's App Home as published by the app. */
  function clickHomeButton(user: string, actionId: string, o?: SignOverrides) {
    const view = standIn.homes.get(user);
    const found = findButton(view?.blocks as unknown[] | undefined, actionId);
    if (!view || !found) throw new Error(`no button ${actionId} on ${user}'s App Home`);
    return interaction(
      {
        type: 'block_actions',
        user: userRef(user),
        api_app_id: 'A0MEDIC',
        token: 'deprecated-verification-token',
        container: { type: 'view', view_id: `VH${user}` },
        trigger_id: standIn.issueTrigger(user),
        team: standIn.team,
        view: { ...view, id: `VH${user}`, team_id: standIn.team.id },
        actions: [actionOf(found, actionId)],
      },
      o,
    );
  }

  /** Submits an open modal with values for its input blocks: { [block_id]: value }. */
  function submitView(user: string, viewId: string, values: Record<string, string>, o?: SignOverrides) {
    const v = standIn.views.get(viewId);
    if (!v) throw new Error(`no open view ${viewId}`);
    type Input = { type: string; block_id?: string; element?: { type: string; action_id?: string } };
    const state: Record<string, Record<string, { type: string; value: string | null }>> = {};
    for (const b of (v.view.blocks ?? []) as Input[]) {
      if (b.type !== 'input' || !b.block_id || !b.element?.action_id) continue;
      state[b.block_id] = { [b.element.action_id]: { type: b.element.type, value: values[b.block_id] ?? null } };
    }
    return interaction(
      {
        type: 'view_submission',
        team: standIn.team,
        user: userRef(user),
        api_app_id: 'A0MEDIC',
        token: 'deprecated-verification-token',
        trigger_id: standIn.issueTrigger(user),
        view: { ...v.view, team_id: standIn.team.id, state: { values: state } },
        response_urls: [],
      },
      o,
    );
  }

  /** Types a slash command in a channel. */
  function slashCommand(user: string, command: string, text: string, channel = [...standIn.channels.keys()][0]!, o?: SignOverrides) {
    const body = new URLSearchParams({
      token: 'deprecated-verification-token',
      team_id: standIn.team.id,
      team_domain: standIn.team.domain,
      channel_id: channel,
      channel_name: standIn.channels.get(channel)?.name ?? channel,
      user_id: user,
      user_name: standIn.users.get(user)?.name ?? user,
      command,
      text,
      api_app_id: 'A0MEDIC',
      response_url: `${standIn.url}/response/${channel}/command`,
      trigger_id: standIn.issueTrigger(user),
    });
    return opts.transport === 'socket' ? overSocket('slash_commands', Object.fromEntries(body)) : send(body.toString(), 'application/x-www-form-urlencoded', o);
  }

  /** The newest modal the stand-in opened for a user. */
  const openViewFor = (user: string) => [...standIn.views.values()].filter((v) => v.user === user).at(-1);

  return { send, clickButton, submitView, slashCommand, openViewFor, openAppHome, clickHomeButton };
}
export type SlackInteractor = ReturnType<typeof slackInteractor>;
