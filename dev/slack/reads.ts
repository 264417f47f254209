// The stand-in's message reads as Slack answers them: message metadata on chat.postMessage, and
// conversations.history (a channel's root messages, newest first) / conversations.replies (a
// thread, its parent first), with oldest/latest bounds, cursor pagination, and metadata only
// when asked for (include_all_metadata). Both are Tier 3 (internal apps), like chat.update.
import { SlackError, type Args } from './errors.js';
import type { StandInMessage } from './server.js';

export interface ReadContext {
  messages: StandInMessage[];
  bot: { userId: string; botId: string };
  channelOf: (args: Args) => { id: string; name: string };
  findMessage: (channel: string, ts: string) => StandInMessage | undefined;
  /** Throws Slack's ratelimited error when the method's Tier 3 bucket is empty. */
  rateLimit: (key: string) => void;
}

export function conversationReads({ messages, bot, channelOf, findMessage, rateLimit }: ReadContext) {
  // Message metadata: unparseable is an error; a wrong shape or event_type is a warning and the
  // metadata is dropped (the message is still posted), as Slack documents.
  const metadataOf = (args: Args): { metadata?: StandInMessage['metadata']; warning?: string } => {
    if (args.metadata === undefined) return {};
    const m = args.metadata as { event_type?: unknown; event_payload?: unknown } | null;
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new SlackError('invalid_metadata_format');
    const payload = m.event_payload;
    const ok = typeof m.event_type === 'string' && /^[A-Za-z0-9_-]{1,255}$/.test(m.event_type) && !!payload && typeof payload === 'object' && !Array.isArray(payload);
    if (!ok) return { warning: 'invalid_metadata_schema' };
    return { metadata: { event_type: m.event_type as string, event_payload: payload as Record<string, unknown> } };
  };
  /** A message as conversations.* return it: metadata only when asked for (include_all_metadata). */
  const asRead = (m: StandInMessage, withMetadata: boolean): Record<string, unknown> => {
    const { metadata, updates: _u, channel: _c, ...rest } = m;
    const replies = messages.filter((x) => x.channel === m.channel && x.thread_ts === m.ts);
    return {
      type: 'message',
      ...rest,
      ...(m.user === bot.userId ? { bot_id: bot.botId, app_id: 'A0MEDIC' } : {}),
      ...(replies.length > 0 && !m.thread_ts ? { thread_ts: m.ts, reply_count: replies.length, latest_reply: replies.at(-1)!.ts } : {}),
      ...(withMetadata && metadata ? { metadata } : {}),
    };
  };
  const truthy = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;
  /** Cursor pagination as Slack does it: limit (1–1000), an opaque next_cursor, has_more. */
  const paginate = <T>(list: T[], args: Args, defaultLimit: number): { page: T[]; has_more: boolean; response_metadata?: { next_cursor: string } } => {
    const limit = args.limit === undefined || args.limit === '' ? defaultLimit : Number(args.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new SlackError('invalid_limit');
    let offset = 0;
    if (typeof args.cursor === 'string' && args.cursor) {
      const m = /^offset:(\d+)$/.exec(Buffer.from(args.cursor, 'base64').toString());
      if (!m) throw new SlackError('invalid_cursor');
      offset = Number(m[1]);
    }
    const page = list.slice(offset, offset + limit);
    const more = offset + limit < list.length;
    return { page, has_more: more, ...(more ? { response_metadata: { next_cursor: Buffer.from(`offset:${offset + limit}`).toString('base64') } } : {}) };
  };
  /** oldest/latest bounds (exclusive unless inclusive), as seconds strings like ts. */
  const inRange = (args: Args) => {
    const oldest = args.oldest === undefined || args.oldest === '' ? -Infinity : Number(args.oldest);
    const latest = args.latest === undefined || args.latest === '' ? Infinity : Number(args.latest);
    if (Number.isNaN(oldest) || Number.isNaN(latest)) throw new SlackError('invalid_ts_oldest');
    const inclusive = truthy(args.inclusive);
    return (ts: string): boolean => {
      const t = Number(ts);
      return inclusive ? t >= oldest && t <= latest : t > oldest && t < latest;
    };
  };
  const methods: Record<string, (args: Args) => Record<string, unknown>> = {
    // Reads (Tier 3, like chat.update): history is a channel's root messages newest first; replies
    // is a thread, its parent first. Metadata comes back only with include_all_metadata.
    'conversations.history': (args) => {
      const ch = channelOf(args);
      rateLimit('conversations.history');
      const within = inRange(args);
      const list = messages.filter((m) => m.channel === ch.id && !m.thread_ts && within(m.ts)).reverse();
      const { page, ...more } = paginate(list, args, 100);
      return { messages: page.map((m) => asRead(m, truthy(args.include_all_metadata))), pin_count: 0, ...more };
    },
    'conversations.replies': (args) => {
      const ch = channelOf(args);
      rateLimit('conversations.replies');
      if (typeof args.ts !== 'string' || !args.ts) throw new SlackError('invalid_arguments');
      const parent = findMessage(ch.id, args.ts);
      if (!parent) throw new SlackError('thread_not_found');
      const within = inRange(args);
      const list = [parent, ...messages.filter((m) => m.channel === ch.id && m.thread_ts === parent.ts)].filter((m) => m === parent || within(m.ts));
      const { page, ...more } = paginate(list, args, 1000);
      return { messages: page.map((m) => asRead(m, truthy(args.include_all_metadata))), ...more };
    },
  };
  return { methods, metadataOf };
}
