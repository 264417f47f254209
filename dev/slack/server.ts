// A local stand-in for Slack's Web API (https://api.slack.com/methods), for tests and the embedded
// demo: medic's WebClient talks to it through `slackApiUrl`. It checks the token, rejects what
// Slack rejects with Slack's error codes, rate-limits with 429 + Retry-After, and records every
// message per channel and thread so tests (and the demo page) can see what users would see.
// Never loaded in production mode.
import Fastify, { type FastifyInstance } from 'fastify';
import { blocksProblem, LIMITS, viewProblem } from './blocks.js';
import { Buckets, type BucketSpec } from '../../src/slack/rate-limit.js';
import { registerWebUi } from './web.js';
import { socketModeServer, type SocketModeServer } from './socket.js';
import { SlackError, type Args } from './errors.js';
import { conversationReads } from './reads.js';

export interface StandInMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  user: string;
  text: string;
  blocks?: unknown[];
  /** Files shared with the message (files.completeUploadExternal). */
  files?: { id: string; title: string; name: string; size: number }[];
  /** How many times chat.update rewrote it. */
  updates: number;
  /** Message metadata (chat.postMessage `metadata`), returned by reads with include_all_metadata. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}
export interface StandInEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
}
export interface StandInView {
  id: string;
  user: string;
  view: Record<string, unknown>;
}
export interface StandInUser {
  id: string;
  name: string;
  real_name?: string;
}
export interface StandInOptions {
  botToken: string;
  /** App-level token (xapp-…) for Socket Mode: only apps.connections.open accepts it. */
  appToken?: string;
  channels?: { id: string; name: string }[];
  users?: StandInUser[];
  usergroups?: { id: string; handle: string; users: string[] }[];
  rateLimits?: { postMessagePerChannel?: BucketSpec; tier3?: BucketSpec; tier4?: BucketSpec };
  port?: number;
}

export interface SlackStandIn {
  /** Base URL for WebClient's `slackApiUrl` (ends with /api/). */
  apiUrl: string;
  url: string;
  app: FastifyInstance;
  team: { id: string; domain: string };
  bot: { userId: string; botId: string };
  channels: Map<string, { id: string; name: string }>;
  users: Map<string, StandInUser>;
  usergroups: Map<string, { id: string; handle: string; users: string[] }>;
  messages: StandInMessage[];
  /** User groups a posted message mentioned (`<!subteam^ID>`): Slack notifies their members. */
  groupMentions: { channel: string; ts: string; group: string; notified: string[] }[];
  ephemerals: StandInEphemeral[];
  views: Map<string, StandInView>;
  homes: Map<string, Record<string, unknown>>;
  /** Every call, in order, with its outcome: tests assert on 429s and errors. */
  calls: { method: string; ok: boolean; error?: string; status: number; channel?: string }[];
  /** Uploads by file id: bytes arrive at the upload URL between the two files.* calls. */
  files: Map<string, { id: string; name: string; length: number; bytes?: Buffer; title?: string }>;
  /** Makes a Web API method answer this much later (0: at once): slow paths in tests. */
  setLatency(method: string, ms: number): void;
  /** Issues a trigger id as Slack does with an interaction (valid 3 s, once). */
  issueTrigger(user: string): string;
  /** Root messages of a channel (not replies), oldest first. */
  history(channel: string): StandInMessage[];
  /** Replies in a thread, oldest first. */
  thread(channel: string, ts: string): StandInMessage[];
  message(channel: string, ts: string): StandInMessage | undefined;
  /** Socket Mode: envelopes to the connected app (see socket.ts). */
  socket: SocketModeServer;
  /** Points the web page's buttons, modals and slash commands at a Bolt endpoint. */
  connect(o: { eventsUrl: string; signingSecret: string }): void;
  close(): Promise<void>;
}

const JSON_ARGS = new Set(['blocks', 'attachments', 'view', 'metadata', 'files']);

export async function startSlackStandIn(o: StandInOptions): Promise<SlackStandIn> {
  const app = Fastify({ logger: false });
  const team = { id: 'T0MEDIC', domain: 'medic-dev' };
  const bot = { userId: 'U0MEDICBOT', botId: 'B0MEDIC' };
  const channels = new Map((o.channels ?? [{ id: 'C0INCIDENT', name: 'incidents' }]).map((c) => [c.id, c]));
  const users = new Map((o.users ?? []).map((u) => [u.id, u]));
  const usergroups = new Map((o.usergroups ?? []).map((g) => [g.id, g]));
  const messages: StandInMessage[] = [];
  const groupMentions: SlackStandIn['groupMentions'] = [];
  const ephemerals: StandInEphemeral[] = [];
  const views = new Map<string, StandInView>();
  const homes = new Map<string, Record<string, unknown>>();
  const calls: SlackStandIn['calls'] = [];
  const triggers = new Map<string, { user: string; expires: number }>();
  const files: SlackStandIn['files'] = new Map();
  const latency = new Map<string, number>();
  let baseUrl = '';
  const perChannel = new Buckets(o.rateLimits?.postMessagePerChannel ?? { burst: 4, perSecond: 1 });
  const tier3 = new Buckets(o.rateLimits?.tier3 ?? { burst: 20, perSecond: 50 / 60 });
  const tier4 = new Buckets(o.rateLimits?.tier4 ?? { burst: 100, perSecond: 100 / 60 });
  let lastTs = 0;
  let ids = 0;
  const nextTs = (): string => {
    lastTs = Math.max(lastTs + 1, Date.now() * 1000); // microseconds, strictly increasing
    return `${Math.floor(lastTs / 1e6)}.${String(lastTs % 1e6).padStart(6, '0')}`;
  };

  const channelOf = (args: Args): { id: string; name: string } => {
    const raw = String(args.channel ?? '');
    if (!raw) throw new SlackError('channel_not_found');
    const byName = [...channels.values()].find((c) => `#${c.name}` === raw || c.name === raw);
    const ch = channels.get(raw) ?? byName;
    if (!ch) throw new SlackError('channel_not_found');
    return ch;
  };
  const userOf = (id: unknown): StandInUser => {
    const u = users.get(String(id ?? ''));
    if (!u) throw new SlackError('user_not_found');
    return u;
  };
  // Slack's rules for message content: text is the fallback for notifications when blocks exist.
  const content = (args: Args): { text: string; blocks?: unknown[] } => {
    const text = typeof args.text === 'string' ? args.text : '';
    if (args.blocks !== undefined) {
      const p = blocksProblem(args.blocks, 'message');
      if (p) throw new SlackError('invalid_blocks', { errors: [p] });
    }
    const blocks = args.blocks as unknown[] | undefined;
    if (!text && (!blocks || blocks.length === 0) && args.attachments === undefined) throw new SlackError('no_text');
    if (text.length > LIMITS.messageText) throw new SlackError('msg_too_long');
    return { text, ...(blocks ? { blocks } : {}) };
  };
  const rateLimit = (buckets: Buckets, key: string): void => {
    const waitMs = buckets.tryTake(key);
    if (waitMs > 0) throw new SlackError('ratelimited', { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) });
  };
  const findMessage = (channel: string, ts: string): StandInMessage | undefined =>
    messages.find((m) => m.channel === channel && m.ts === ts);
  const reads = conversationReads({ messages, bot, channelOf, findMessage, rateLimit: (key) => rateLimit(tier3, key) });
  const metadataOf = reads.metadataOf;
  const openView = (args: Args, user: string): StandInView => {
    const p = viewProblem(args.view);
    if (p) throw new SlackError('invalid_arguments', { response_metadata: { messages: [`[ERROR] ${p}`] } });
    const id = `V${String(++ids).padStart(8, '0')}`;
    const v = { id, user, view: { ...(args.view as Record<string, unknown>), id, hash: `h${ids}` } };
    views.set(id, v);
    return v;
  };

  const methods: Record<string, (args: Args) => Record<string, unknown>> = {
    'apps.connections.open': () => ({ url: `${baseUrl.replace(/^http/, 'ws')}/socket-mode?ticket=${++ids}` }),
    'auth.test': () => ({ url: `https://${team.domain}.slack.com/`, team: 'medic dev', user: 'medic', team_id: team.id, user_id: bot.userId, bot_id: bot.botId }),
    'chat.postMessage': (args) => {
      const ch = channelOf(args);
      rateLimit(perChannel, ch.id);
      const c = content(args);
      const meta = metadataOf(args);
      const thread = typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : undefined;
      if (thread && !findMessage(ch.id, thread)) throw new SlackError('thread_not_found');
      const m: StandInMessage = { channel: ch.id, ts: nextTs(), user: bot.userId, ...c, ...(thread ? { thread_ts: thread } : {}), updates: 0, ...(meta.metadata ? { metadata: meta.metadata } : {}) };
      messages.push(m);
      // A mention of an unknown group renders as text in Slack and notifies nobody.
      for (const [, id] of JSON.stringify([c.text, c.blocks ?? []]).matchAll(/<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>/g)) {
        const g = usergroups.get(id!);
        if (g && !groupMentions.some((x) => x.ts === m.ts && x.group === g.id)) groupMentions.push({ channel: ch.id, ts: m.ts, group: g.id, notified: [...g.users] });
      }
      const { updates: _u, ...shown } = m;
      return { channel: ch.id, ts: m.ts, message: { type: 'message', ...shown }, ...(meta.warning ? { warning: meta.warning, response_metadata: { warnings: [meta.warning] } } : {}) };
    },
    ...reads.methods,
    'chat.update': (args) => {
      const ch = channelOf(args);
      rateLimit(tier3, 'chat.update');
      const m = findMessage(ch.id, String(args.ts ?? ''));
      if (!m) throw new SlackError('message_not_found');
      if (m.user !== bot.userId) throw new SlackError('cant_update_message');
      const c = content(args);
      m.text = c.text;
      if (c.blocks) m.blocks = c.blocks;
      m.updates += 1;
      return { channel: ch.id, ts: m.ts, text: m.text, message: { type: 'message', ...m } };
    },
    'chat.postEphemeral': (args) => {
      const ch = channelOf(args);
      rateLimit(tier3, `chat.postEphemeral`);
      const user = userOf(args.user);
      const c = content(args);
      ephemerals.push({ channel: ch.id, user: user.id, ...c, ...(typeof args.thread_ts === 'string' ? { thread_ts: args.thread_ts } : {}) });
      return { message_ts: nextTs() };
    },
    'views.open': (args) => {
      rateLimit(tier4, 'views.open');
      const trigger = triggers.get(String(args.trigger_id ?? ''));
      if (!trigger) throw new SlackError('invalid_trigger_id');
      triggers.delete(String(args.trigger_id));
      if (Date.now() > trigger.expires) throw new SlackError('expired_trigger_id');
      return { view: openView(args, trigger.user).view };
    },
    'views.update': (args) => {
      rateLimit(tier4, 'views.update');
      const v = views.get(String(args.view_id ?? ''));
      if (!v) throw new SlackError('not_found');
      if (args.hash !== undefined && args.hash !== v.view.hash) throw new SlackError('hash_conflict');
      const p = viewProblem(args.view);
      if (p) throw new SlackError('invalid_arguments', { response_metadata: { messages: [`[ERROR] ${p}`] } });
      v.view = { ...(args.view as Record<string, unknown>), id: v.id, hash: `h${++ids}` };
      return { view: v.view };
    },
    'views.publish': (args) => {
      rateLimit(tier4, 'views.publish');
      const user = userOf(args.user_id);
      const p = viewProblem(args.view);
      if (p) throw new SlackError('invalid_arguments', { response_metadata: { messages: [`[ERROR] ${p}`] } });
      if ((args.view as Args).type !== 'home') throw new SlackError('invalid_arguments');
      homes.set(user.id, args.view as Record<string, unknown>);
      return { view: { ...(args.view as Record<string, unknown>), id: `VH${user.id}` } };
    },
    'chat.getPermalink': (args) => {
      const ch = channelOf(args);
      const m = findMessage(ch.id, String(args.message_ts ?? ''));
      if (!m) throw new SlackError('message_not_found');
      return { channel: ch.id, permalink: `https://${team.domain}.slack.com/archives/${ch.id}/p${m.ts.replace('.', '')}` };
    },
    // The two-step upload Slack requires since files.upload was retired: get a URL, send the
    // bytes there, then complete (which shares the files into a channel or thread).
    'files.getUploadURLExternal': (args) => {
      const length = Number(args.length);
      if (typeof args.filename !== 'string' || !args.filename) throw new SlackError('invalid_arguments');
      if (!Number.isInteger(length) || length <= 0) throw new SlackError('invalid_arguments');
      const id = `F${String(++ids).padStart(8, '0')}`;
      files.set(id, { id, name: args.filename, length });
      return { upload_url: `${baseUrl}/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': (args) => {
      const list = args.files as { id?: string; title?: string }[] | undefined;
      if (!Array.isArray(list) || list.length === 0) throw new SlackError('invalid_arguments');
      const done = list.map((f) => {
        const file = files.get(String(f.id ?? ''));
        if (!file) throw new SlackError('file_not_found');
        if (!file.bytes || file.bytes.length !== file.length) throw new SlackError('file_upload_size_mismatch');
        file.title = f.title ?? file.name;
        return file;
      });
      if (args.channel_id !== undefined || args.channels !== undefined) {
        const ch = channelOf({ channel: args.channel_id ?? args.channels });
        const thread = typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : undefined;
        if (thread && !findMessage(ch.id, thread)) throw new SlackError('thread_not_found');
        messages.push({
          channel: ch.id,
          ts: nextTs(),
          user: bot.userId,
          text: typeof args.initial_comment === 'string' ? args.initial_comment : '',
          files: done.map((f) => ({ id: f.id, title: f.title ?? f.name, name: f.name, size: f.length })),
          ...(thread ? { thread_ts: thread } : {}),
          updates: 0,
        });
      }
      return { files: done.map((f) => ({ id: f.id, title: f.title ?? f.name })) };
    },
    'users.info': (args) => ({ user: { ...userOf(args.user), team_id: team.id, deleted: false, is_bot: false } }),
    'usergroups.list': () => ({
      usergroups: [...usergroups.values()].map((g) => ({ id: g.id, handle: g.handle, name: g.handle, team_id: team.id, user_count: g.users.length })),
    }),
    'usergroups.users.list': (args) => {
      const g = usergroups.get(String(args.usergroup ?? ''));
      if (!g) throw new SlackError('no_such_subteam');
      return { users: g.users };
    },
    'conversations.info': (args) => {
      const ch = channelOf(args);
      return { channel: { id: ch.id, name: ch.name, is_channel: true, is_member: true, is_archived: false } };
    },
  };

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.addContentTypeParser(['application/octet-stream', 'image/png', 'image/svg+xml', 'text/plain'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser(/^multipart\//, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/upload/:id', async (req, reply) => {
    const file = files.get((req.params as { id: string }).id);
    if (!file) return reply.code(404).send('file not found');
    const body = req.body as Buffer | undefined;
    // A multipart upload carries the bytes between its boundaries; raw uploads are the bytes.
    const ct = String(req.headers['content-type'] ?? '');
    let bytes = Buffer.isBuffer(body) ? body : Buffer.from(String(body ?? ''));
    if (ct.startsWith('multipart/')) {
      const text = bytes.toString('latin1');
      const start = text.indexOf('\r\n\r\n') + 4;
      const end = text.lastIndexOf('\r\n--');
      bytes = Buffer.from(text.slice(start, end), 'latin1');
    }
    file.bytes = bytes;
    return reply.type('text/plain').send(`OK - ${bytes.length}`);
  });

  app.post('/api/:method', async (req, reply) => {
    const method = (req.params as { method: string }).method;
    const raw = (req.body ?? {}) as Args;
    const args: Args = {};
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : typeof raw.token === 'string' ? raw.token : undefined;
    const record = (status: number, ok: boolean, error?: string): void =>
      void calls.push({ method, ok, status, ...(error ? { error } : {}), ...(typeof raw.channel === 'string' ? { channel: raw.channel } : {}) });
    const slow = latency.get(method);
    if (slow) await new Promise((r) => setTimeout(r, slow));
    try {
      if (!token) throw new SlackError('not_authed');
      // The app-level token opens Socket Mode connections and does nothing else; bot tokens cannot.
      const appOnly = method === 'apps.connections.open';
      if (token !== o.botToken && !(o.appToken && token === o.appToken)) throw new SlackError('invalid_auth');
      if (appOnly !== (token === o.appToken)) throw new SlackError('not_allowed_token_type');
      const impl = methods[method];
      if (!impl) throw new SlackError('unknown_method');
      // Form-encoded calls carry JSON-valued arguments as strings, as WebClient sends them.
      for (const [k, v] of Object.entries(raw)) {
        if (k === 'token') continue;
        if (JSON_ARGS.has(k) && typeof v === 'string') {
          try {
            args[k] = JSON.parse(v);
          } catch {
            throw new SlackError(k === 'blocks' ? 'invalid_blocks_format' : k === 'metadata' ? 'invalid_metadata_format' : 'invalid_arguments');
          }
        } else args[k] = v;
      }
      const result = impl(args);
      record(200, true);
      return { ok: true, ...result };
    } catch (err) {
      if (!(err instanceof SlackError)) throw err;
      if (err.code === 'ratelimited') {
        record(429, false, err.code);
        return reply.code(429).header('retry-after', String(err.extra.retryAfter)).send({ ok: false, error: 'ratelimited' });
      }
      record(200, false, err.code);
      return { ok: false, error: err.code, ...err.extra };
    }
  });

  let self: SlackStandIn | undefined;
  const socket = socketModeServer(app);
  const web = registerWebUi(app, () => self!);
  const url = await app.listen({ host: '127.0.0.1', port: o.port ?? 0 });
  baseUrl = url;
  return (self = {
    apiUrl: `${url}/api/`,
    url,
    app,
    team,
    bot,
    channels,
    users,
    usergroups,
    messages,
    groupMentions,
    ephemerals,
    views,
    homes,
    calls,
    files,
    setLatency: (method, ms) => void (ms > 0 ? latency.set(method, ms) : latency.delete(method)),
    issueTrigger(user) {
      const id = `${Date.now()}.${++ids}.trigger`;
      triggers.set(id, { user, expires: Date.now() + 3_000 });
      return id;
    },
    history: (channel) => messages.filter((m) => m.channel === channel && !m.thread_ts),
    thread: (channel, ts) => messages.filter((m) => m.channel === channel && m.thread_ts === ts),
    message: findMessage,
    socket,
    connect: (c) => web.connect(c),
    close: async () => {
      socket.close();
      await app.close();
    },
  });
}
