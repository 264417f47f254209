// Posting that survives lost answers and dead workers. Every message medic posts carries Slack
// message metadata naming the incident and which part of the thread it is ({ part, seq }); a post
// whose answer never arrived, and any retried publish, first looks for its own message
// (conversations.history / conversations.replies with include_all_metadata) before posting again.
import { ErrorCode, LogLevel, WebClient, type WebAPICallError } from '@slack/web-api';
import type { Pacer } from '../../slack/rate-limit.js';
import type { SlackMessage } from '../../slack/ui/incident.js';

export const METADATA_EVENT = 'medic_incident_message';
export type Part = 'root' | 'entries' | 'approval' | 'take' | 'ladder' | 'evidence';
/** What a message's metadata says: its incident, its part, and the last timeline seq it shows. */
export interface Tag {
  part: Part;
  seq: number;
}
export interface Found extends Tag {
  ts: string;
}
/** The incident graph, as Slack shows a thread's file message (no metadata on uploads). */
export const GRAPH_FILENAME = 'incident-graph.png';

const MAX_SENDS = 6;
const PAGE = 200;
const MAX_PAGES = 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isRateLimited = (err: unknown): err is { retryAfter: number } => (err as WebAPICallError).code === ErrorCode.RateLimitedError;
/** A Slack error answer (ok: false): the request was judged and nothing was posted. */
const isPlatform = (err: unknown): boolean => (err as WebAPICallError).code === ErrorCode.PlatformError;

type Message = { ts?: string; metadata?: { event_type?: string; event_payload?: Record<string, unknown> }; files?: { id?: string; name?: string }[] };

/** A client like `web` that sends each request once: a resend is decided here, after a lookup. */
export const sendOnce = (web: WebClient): WebClient =>
  new WebClient(web.token, { slackApiUrl: web.slackApiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logLevel: LogLevel.ERROR });

export interface PosterDeps {
  /** Reads (retrying client). */
  web: WebClient;
  /** Posts: sendOnce(web). */
  once: WebClient;
  incidentId: string;
  posts: Pacer;
  reads: Pacer;
}

export function slackPoster({ web, once, incidentId, posts, reads }: PosterDeps) {
  const tagOf = (m: Message): Tag | undefined => {
    const p = m.metadata?.event_type === METADATA_EVENT ? m.metadata.event_payload : undefined;
    if (!p || p.incident !== incidentId || typeof p.part !== 'string' || typeof p.seq !== 'number') return undefined;
    return { part: p.part as Part, seq: p.seq };
  };
  const same = (a: Tag, b: Tag): boolean => a.part === b.part && a.seq === b.seq;

  /** The root message of this incident in `channel`, posted at or after `since` (epoch ms). */
  async function findRoot(channel: string, since: number): Promise<string | undefined> {
    // Slack reads history by channel id only: a #name config cannot look (a retry may then post
    // the root again; the config says to prefer the id).
    if (!/^[CGD][A-Z0-9]+$/.test(channel)) return undefined;
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      await reads.take('conversations.history');
      const r = await web.conversations.history({ channel, oldest: String(Math.floor(since / 1000) - 60), limit: PAGE, include_all_metadata: true, ...(cursor ? { cursor } : {}) });
      const hit = (r.messages as Message[] | undefined)?.find((m) => tagOf(m)?.part === 'root');
      if (hit?.ts) return hit.ts;
      cursor = r.response_metadata?.next_cursor || undefined;
      if (!r.has_more || !cursor) return undefined;
    }
    return undefined;
  }

  /** This incident's tagged messages in the thread, and the graph's file id if one was shared. */
  async function readThread(channel: string, rootTs: string): Promise<{ found: Found[]; graph?: string }> {
    const found: Found[] = [];
    let graph: string | undefined;
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      await reads.take('conversations.replies');
      const r = await web.conversations.replies({ channel, ts: rootTs, limit: PAGE, include_all_metadata: true, ...(cursor ? { cursor } : {}) });
      for (const m of (r.messages ?? []) as Message[]) {
        if (!m.ts || m.ts === rootTs) continue;
        const tag = tagOf(m);
        if (tag) found.push({ ...tag, ts: m.ts });
        const file = m.files?.find((f) => f.name === GRAPH_FILENAME);
        if (file?.id) graph = file.id;
      }
      cursor = r.response_metadata?.next_cursor || undefined;
      if (!r.has_more || !cursor) break;
    }
    return { found, ...(graph ? { graph } : {}) };
  }

  /**
   * Posts once. A rate-limited send is repeated after Retry-After (nothing was posted); any other
   * failure without Slack's answer may have landed, so the next send looks for the message first.
   */
  async function post(channel: string, m: SlackMessage, tag: Tag, where: { threadTs?: string; since: number }): Promise<{ channel: string; ts: string }> {
    const threadTs = where.threadTs;
    let unsure = false;
    for (let send = 1; ; send++) {
      if (unsure) {
        const ts = threadTs ? (await readThread(channel, threadTs)).found.find((f) => same(f, tag))?.ts : await findRoot(channel, where.since);
        if (ts) return { channel, ts };
      }
      await posts.take(channel);
      try {
        const r = await once.chat.postMessage({
          channel,
          text: m.text,
          blocks: m.blocks,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          unfurl_links: false,
          metadata: { event_type: METADATA_EVENT, event_payload: { incident: incidentId, part: tag.part, seq: tag.seq } },
        });
        if (!r.ts || !r.channel) throw new Error('chat.postMessage returned no ts');
        return { channel: r.channel, ts: r.ts };
      } catch (err) {
        if (send >= MAX_SENDS || isPlatform(err)) throw err;
        if (isRateLimited(err)) {
          await sleep(err.retryAfter * 1000);
          continue;
        }
        unsure = true;
        await sleep(Math.min(8_000, 250 * 2 ** send));
      }
    }
  }

  return { post, findRoot, readThread };
}
export type SlackPoster = ReturnType<typeof slackPoster>;
