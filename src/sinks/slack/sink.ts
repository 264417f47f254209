// The Slack sink: each incident gets one root message in the incidents channel, rewritten as its
// status changes, and a thread with its timeline; an approval request or a slack-group rung's
// request is its own message with buttons. The sink is the only writer of these messages (Slack
// listeners answer the clicker only), so it alone removes buttons that can no longer act
// (./buttons.ts). Where the messages are lives in the workflow (SlackRefs, returned after every
// publish); a publish whose worker died midway is retried with the older refs and finds what it
// posted by its metadata (./post.ts). Paced per channel so medic stays under Slack's limits.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { WebClient } from '@slack/web-api';
import type { IncidentSink } from '../sink.js';
import type { ApprovalRequest, IncidentStatus, PublishInput, TimelineEntry } from '../../../workflows/contracts.js';
import { SlackRefsSchema, type SlackRefs } from '../../../workflows/contracts-sinks.js';
import { Pacer, type BucketSpec } from '../../slack/rate-limit.js';
import { incidentRoot, temporalLink, timelineMessages, type SlackMessage } from '../../slack/ui/incident.js';
import { approvalMessage } from '../../slack/ui/approval.js';
import { groupMention, ladderKey, ladderMessage, takeMessage, type TakeRequest } from '../../slack/ui/ladder.js';
import { approvalFate, takeFate } from './buttons.js';
import { inThread, verbosityOf } from './verbosity.js';
import type { Verbosity } from '../../playbooks/thread.js';
import { rootExtrasKey } from '../../slack/ui/incident-context.js';
import { evidenceFileName, evidenceMessage } from '../../slack/ui/evidence.js';
import { GRAPH_FILENAME, sendOnce, slackPoster, type Found, type SlackPoster } from './post.js';

export interface SlackSinkDeps {
  web: WebClient;
  /** Channel id that incident root messages go to. */
  channel: string;
  temporalUiUrl?: string;
  namespace?: string;
  /** Slack allows about one message per second per channel, with short bursts. */
  postPace?: BucketSpec;
  /** chat.update is Tier 3: about 50 per minute. */
  updatePace?: BucketSpec;
  /** Renders the incident's graph (PNG) for its thread; undefined when there is none to draw. */
  graph?: (incident: IncidentStatus) => Promise<{ png: Buffer; title: string } | undefined>;
  /** The channel's thread verbosity (config slack.verbosity); a playbook's own overrides it. */
  verbosity?: Verbosity;
  /** Which try of the publish this is (default: the activity's attempt; 1 outside an activity). */
  attempt?: () => number;
}

const rootKeyOf = (i: IncidentStatus): string => `${i.status}:${i.stepIndex}:${i.outcome ? 'done' : ''}`;
const requestOf = (e: TimelineEntry): ApprovalRequest | undefined => (e.kind === 'approval.requested' ? e.data.request : undefined);
/** workflows/ladder.ts: a slack-group rung asks its group to take the incident. */
const takeRequestOf = (e: TimelineEntry): TakeRequest | undefined => (e.kind === 'escalation.takeRequested' ? e.data.take : undefined);
const isLadder = (e: TimelineEntry): boolean => e.kind === 'escalation.ladder';
const packOf = (e: TimelineEntry) => (e.kind === 'control.evidence' ? e.data.evidence : undefined);
const activityAttempt = (): number => {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
};

function parseRefs(raw: unknown): SlackRefs | undefined {
  if (raw === undefined) return undefined;
  const r = SlackRefsSchema.safeParse(raw);
  if (r.success) return structuredClone(r.data);
  const issues = r.error.issues.map((x) => `${x.path.join('.') || 'refs'}: ${x.message}`).join('; ');
  throw ApplicationFailure.create({ message: `the incident's Slack references are invalid (${issues})`, type: 'InvalidSlackRefs', nonRetryable: true });
}

/** Adds what a lost attempt posted in the thread (found by metadata) to the refs it never returned. */
function recover(refs: SlackRefs, found: Found[], graph: string | undefined, entries: TimelineEntry[]): void {
  for (const f of found.sort((a, b) => a.seq - b.seq)) {
    if (f.part === 'ladder' && !refs.ladder) refs.ladder = { ts: f.ts, key: '' };
    if (f.seq <= refs.seq || f.part === 'ladder' || f.part === 'root') continue;
    const e = entries.find((x) => x.seq === f.seq);
    const request = e && requestOf(e);
    const take = e && takeRequestOf(e);
    if (f.part === 'approval' && request) refs.approvals.push({ ts: f.ts, request, approvals: request.approvedBy?.length ?? 0 });
    if (f.part === 'take' && take) refs.takes.push({ ts: f.ts, ...take });
    refs.seq = f.seq;
  }
  if (graph && !refs.graph) refs.graph = graph;
}

export function createSlackSink(deps: SlackSinkDeps): IncidentSink {
  const { web } = deps;
  const once = sendOnce(web);
  const posts = new Pacer(deps.postPace ?? { burst: 3, perSecond: 1 });
  const updates = new Pacer(deps.updatePace ?? { burst: 10, perSecond: 50 / 60 });
  const reads = new Pacer({ burst: 5, perSecond: 50 / 60 }); // conversations.* are Tier 3
  const attempt = deps.attempt ?? activityAttempt;
  // User group handle → id (usergroups.list), so a request mentions the group and notifies it.
  let groupIds: { at: number; ids: Map<string, string> } | undefined;
  async function mentionOf(group: string): Promise<string> {
    if (!group.startsWith('@')) return groupMention(group, group);
    if (!groupIds || Date.now() - groupIds.at > 60_000) {
      const r = await web.usergroups.list({});
      groupIds = { at: Date.now(), ids: new Map((r.usergroups ?? []).map((g) => [`@${g.handle}`, g.id!])) };
    }
    return groupMention(group, groupIds.ids.get(group));
  }
  async function update(channel: string, ts: string, m: SlackMessage): Promise<void> {
    await updates.take('chat.update');
    await web.chat.update({ channel, ts, text: m.text, blocks: m.blocks });
  }

  // One publish per incident at a time in this worker. While Slack is down, an attempt that timed
  // out keeps running (the client retries inside it); the next attempt waits for it, then finds
  // what it posted by metadata instead of posting it again.
  const inFlight = new Map<string, Promise<unknown>>();
  const serialized = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (inFlight.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    inFlight.set(key, run);
    void run.catch(() => undefined).finally(() => inFlight.get(key) === run && inFlight.delete(key));
    return run;
  };

  async function publish(input: PublishInput, poster: SlackPoster): Promise<SlackRefs> {
    const i = input.incident;
    const retry = attempt() > 1;
    const uiUrl = input.temporalUiUrl ?? deps.temporalUiUrl;
    const verbosity = verbosityOf(i, deps.verbosity);
    let refs = parseRefs(input.refs.slack);
    const root = (): SlackMessage =>
      incidentRoot(i, { ...(uiUrl ? { temporalUrl: temporalLink(uiUrl, deps.namespace ?? 'default', i.workflowId) } : {}), ...(refs?.routine ? { routine: refs.routine } : {}) });
    const rootKey = (): string => `${rootKeyOf(i)}${rootExtrasKey(i, refs?.routine)}`;

    if (!refs) {
      // A retry may find the root its lost attempt posted; it is then rewritten once (rootKey '').
      const found = retry ? await poster.findRoot(deps.channel, i.startedAt) : undefined;
      const r = found ? { channel: deps.channel, ts: found } : await poster.post(deps.channel, root(), { part: 'root', seq: -1 }, { since: i.startedAt });
      refs = { channel: r.channel, rootTs: r.ts, rootKey: found ? '' : rootKey(), seq: -1, approvals: [], takes: [] };
    }
    const { channel, rootTs: thread } = refs;
    if (retry) {
      const t = await poster.readThread(channel, thread);
      recover(refs, t.found, t.graph, input.entries);
    }
    const post = (m: SlackMessage, part: 'entries' | 'approval' | 'take' | 'ladder' | 'evidence', seq: number) => poster.post(channel, m, { part, seq }, { threadTs: thread, since: i.startedAt });

    if (!refs.permalink) {
      // Links to the thread from elsewhere (the PagerDuty page, the store, the audit log).
      const p = await web.chat.getPermalink({ channel, message_ts: thread });
      if (p.permalink) refs.permalink = p.permalink;
    }
    if (deps.graph && !refs.graph) {
      // Once per incident, through Slack's two-step upload (getUploadURLExternal → bytes →
      // completeUploadExternal). No graph (no expression, Prometheus down) is not an error.
      const g = await deps.graph(i).catch(() => undefined);
      if (g) {
        await posts.take(channel);
        const up = await web.files.uploadV2({ channel_id: channel, thread_ts: thread, file: g.png, filename: GRAPH_FILENAME, title: g.title });
        refs.graph = (up as { files?: { files?: { id?: string }[] }[] }).files?.[0]?.files?.[0]?.id ?? 'uploaded';
      } else {
        refs.graph = 'none';
      }
    }

    const r = refs;
    let run: TimelineEntry[] = [];
    const postRun = async (): Promise<void> => {
      for (const m of timelineMessages(run)) {
        await post(m, 'entries', m.lastSeq);
        r.seq = m.lastSeq;
      }
      run = [];
    };
    const postLadder = async (seq: number): Promise<void> => {
      const m = await post(ladderMessage(i), 'ladder', seq);
      r.ladder = { ts: m.ts, key: ladderKey(i) };
    };
    let coalesced = -1;
    for (const e of input.entries.filter((x) => x.seq > r.seq)) {
      const request = requestOf(e);
      const take = takeRequestOf(e);
      const pack = packOf(e);
      // Packs follow the thread's verbosity, but the one at escalation is always shown.
      if (pack && (pack.moment === 'escalation' || inThread(e.kind, verbosity))) {
        // An evidence pack is its own message (src/slack/ui/evidence.ts); what it cannot show
        // within Slack's limits goes beside it as a file holding the whole pack.
        await postRun();
        const m = evidenceMessage(pack, `${i.alertname} on ${i.target}`);
        await post(m, 'evidence', e.seq);
        if (m.file) {
          await posts.take(channel);
          await web.files.uploadV2({ channel_id: channel, thread_ts: thread, file: Buffer.from(JSON.stringify(pack, null, 2)), filename: evidenceFileName(pack), title: `Evidence ${pack.moment}` });
        }
        r.seq = e.seq;
        continue;
      }
      if (!request && !take && !isLadder(e) && !inThread(e.kind, verbosity)) {
        // Kept out of the thread at this verbosity: the root message counts it and shows the latest.
        r.routine = { count: (r.routine?.count ?? 0) + 1, last: e.message.slice(0, 300), at: e.at };
        coalesced = Math.max(coalesced, e.seq);
        continue;
      }
      if (!request && !take) {
        run.push(e);
        if (isLadder(e) && i.ladder && !r.ladder) {
          // The ladder is one message, rewritten as escalation moves from rung to rung.
          await postRun();
          await postLadder(e.seq);
        }
        continue;
      }
      // A request is its own message (it carries buttons); what came before it is posted first.
      await postRun();
      // A request that is already moot (decided, or the incident moved on, before it was ever
      // posted) is posted without buttons.
      if (request) {
        const open = { ts: '', request, approvals: request.approvedBy?.length ?? 0 };
        const fate = approvalFate(i, input.entries, open);
        const m = await post(approvalMessage(i.workflowId, request, fate.kind === 'closed' ? fate.decided : undefined), 'approval', e.seq);
        if (fate.kind === 'open') r.approvals.push({ ...open, ts: m.ts });
      } else if (take) {
        const settled = takeFate(i, input.entries, { ts: '', ...take });
        const m = await post(takeMessage(i.workflowId, take, await mentionOf(take.group), settled), 'take', e.seq);
        if (!settled) r.takes.push({ ts: m.ts, ...take });
      }
      r.seq = e.seq;
    }
    await postRun();
    r.seq = Math.max(r.seq, coalesced); // everything up to here is posted or counted on the root
    // A lost attempt may have posted the ladder's entry but not the ladder message itself.
    if (i.ladder && !r.ladder) await postLadder(r.seq);

    // Buttons that can no longer act are removed, whoever or whatever made them stale.
    const stillOpen: SlackRefs['approvals'] = [];
    for (const a of r.approvals) {
      const fate = approvalFate(i, input.entries, a);
      if (fate.kind === 'closed') {
        await update(channel, a.ts, approvalMessage(i.workflowId, a.request, fate.decided));
        continue;
      }
      if (fate.refresh && i.pendingApproval) {
        // A partial four-eyes approval shows on the request, which keeps its buttons.
        await update(channel, a.ts, approvalMessage(i.workflowId, i.pendingApproval));
        a.approvals = i.pendingApproval.approvedBy?.length ?? 0;
      }
      stillOpen.push(a);
    }
    r.approvals = stillOpen;
    const takesOpen: SlackRefs['takes'] = [];
    for (const t of r.takes) {
      const settled = takeFate(i, input.entries, t);
      if (settled) await update(channel, t.ts, takeMessage(i.workflowId, t, await mentionOf(t.group), settled));
      else takesOpen.push(t);
    }
    r.takes = takesOpen;
    if (i.ladder && r.ladder && r.ladder.key !== ladderKey(i)) {
      await update(channel, r.ladder.ts, ladderMessage(i));
      r.ladder.key = ladderKey(i);
    }
    if (r.rootKey !== rootKey()) {
      await update(channel, thread, root());
      r.rootKey = rootKey();
    }
    return r;
  }

  return {
    name: 'slack',
    publish: (input: PublishInput) =>
      serialized(input.incident.incidentId, async () => ({
        slack: await publish(input, slackPoster({ web, once, incidentId: input.incident.incidentId, posts, reads })),
      })),
  };
}
