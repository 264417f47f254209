// The Slack sink: each incident gets one root message in the incidents channel, updated in place
// as its status changes, and a thread with its timeline; an approval request becomes a message
// with Approve / Deny buttons. Idempotent per entry seq (refs carry the last seq posted), paced
// per channel so medic stays under Slack's limits by itself; a 429 that still happens is waited
// out by the WebClient (Retry-After) and the call repeated, so nothing is dropped.
import type { WebClient } from '@slack/web-api';
import type { IncidentSink } from './publish.js';
import type { IncidentStatus, PublishInput, TimelineEntry } from '../workflows/contracts.js';
import { Pacer, type BucketSpec } from '../src/slack/rate-limit.js';
import { incidentRoot, temporalLink, timelineMessages, type SlackMessage } from '../src/slack/ui/incident.js';
import { approvalMessage, type Decided } from '../src/slack/ui/approval.js';
import { groupMention, ladderKey, ladderMessage, takeMessage, type TakeRequest, type TakeSettled } from '../src/slack/ui/ladder.js';

export interface SlackSinkDeps {
  web: WebClient;
  /** Channel id (or #name) that incident root messages go to. */
  channel: string;
  temporalUiUrl?: string;
  namespace?: string;
  /** Slack allows about one message per second per channel, with short bursts. */
  postPace?: BucketSpec;
  /** chat.update is Tier 3: about 50 per minute. */
  updatePace?: BucketSpec;
  /** Renders the incident's graph (PNG) for its thread; undefined when there is none to draw. */
  graph?: (incident: IncidentStatus) => Promise<{ png: Buffer; title: string } | undefined>;
}

export const SLACK_REFS = {
  channel: 'slackChannel',
  rootTs: 'slackRootTs',
  seq: 'slackSeq',
  status: 'slackStatus',
  permalink: 'slackPermalink',
  graph: 'slackGraph',
  approval: (step: number) => `slackApproval.${step}`,
  ladder: 'slackLadder',
  ladderKey: 'slackLadderKey',
  take: (rung: number) => `slackTake.${rung}`,
  /** The request as posted (JSON), to rewrite it without its button later. */
  takeRequest: (rung: number) => `slackTakeRequest.${rung}`,
  takeSettled: (rung: number) => `slackTakeSettled.${rung}`,
} as const;

const statusKey = (i: IncidentStatus): string => `${i.status}:${i.stepIndex}:${i.outcome ? 'done' : ''}`;
/** workflows/ladder.ts: how a slack-group rung's request settled. */
type TakeData = Pick<TakeRequest, 'rung'> & { outcome: 'taken' | 'missed'; by?: string; at?: number };

export function createSlackSink(deps: SlackSinkDeps): IncidentSink {
  const { web } = deps;
  const posts = new Pacer(deps.postPace ?? { burst: 3, perSecond: 1 });
  const updates = new Pacer(deps.updatePace ?? { burst: 10, perSecond: 50 / 60 });
  // What this worker already posted per incident. A publish that fails halfway is retried with
  // the workflow's older refs; this keeps the retry from posting the same messages twice.
  const progress = new Map<string, Record<string, string>>();
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

  async function post(channel: string, m: SlackMessage, threadTs?: string): Promise<{ channel: string; ts: string }> {
    await posts.take(channel);
    const r = await web.chat.postMessage({ channel, text: m.text, blocks: m.blocks, ...(threadTs ? { thread_ts: threadTs } : {}), unfurl_links: false });
    if (!r.ts || !r.channel) throw new Error('chat.postMessage returned no ts');
    return { channel: r.channel, ts: r.ts };
  }
  async function update(channel: string, ts: string, m: SlackMessage): Promise<void> {
    await updates.take('chat.update');
    await web.chat.update({ channel, ts, text: m.text, blocks: m.blocks });
  }

  // One publish per incident at a time in this worker. While Slack is down, an attempt that timed
  // out keeps running (the client retries inside it); without this, it and the next attempts
  // would each post the root message and the entries once Slack is back.
  const inFlight = new Map<string, Promise<unknown>>();
  const serialized = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (inFlight.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    inFlight.set(key, run);
    void run.catch(() => undefined).finally(() => inFlight.get(key) === run && inFlight.delete(key));
    return run;
  };

  return {
    name: 'slack',
    publish: (input: PublishInput) => serialized(input.incident.incidentId, async () => {
      const i = input.incident;
      const key = i.incidentId;
      const known = progress.get(key);
      const refs: Record<string, string> =
        known && Number(known[SLACK_REFS.seq] ?? -1) >= Number(input.refs[SLACK_REFS.seq] ?? -1) ? { ...input.refs, ...known } : { ...input.refs };
      const out: Record<string, string> = {};
      const save = (k: string, v: string): void => {
        out[k] = v;
        refs[k] = v;
        progress.set(key, Object.fromEntries(Object.entries(refs).filter(([rk]) => rk.startsWith('slack'))));
      };
      const uiUrl = input.temporalUiUrl ?? deps.temporalUiUrl;
      const root = (): SlackMessage => incidentRoot(i, uiUrl ? { temporalUrl: temporalLink(uiUrl, deps.namespace ?? 'default', i.workflowId) } : {});

      if (!refs[SLACK_REFS.rootTs]) {
        const r = await post(refs[SLACK_REFS.channel] ?? deps.channel, root());
        save(SLACK_REFS.channel, r.channel);
        save(SLACK_REFS.rootTs, r.ts);
        save(SLACK_REFS.status, statusKey(i));
      }
      if (!refs[SLACK_REFS.permalink]) {
        // Links to the thread from elsewhere (the PagerDuty page, the audit log).
        const p = await web.chat.getPermalink({ channel: refs[SLACK_REFS.channel]!, message_ts: refs[SLACK_REFS.rootTs]! });
        if (p.permalink) save(SLACK_REFS.permalink, p.permalink);
      }
      const channel = refs[SLACK_REFS.channel]!;
      const thread = refs[SLACK_REFS.rootTs]!;
      if (deps.graph && !refs[SLACK_REFS.graph]) {
        // Once per incident, through Slack's two-step upload (getUploadURLExternal → bytes →
        // completeUploadExternal). No graph (no expression, Prometheus down) is not an error.
        const g = await deps.graph(i).catch(() => undefined);
        if (g) {
          await posts.take(channel);
          const up = await web.files.uploadV2({ channel_id: channel, thread_ts: thread, file: g.png, filename: 'incident-graph.png', title: g.title });
          const fileId = (up as { files?: { files?: { id?: string }[] }[] }).files?.[0]?.files?.[0]?.id ?? 'uploaded';
          save(SLACK_REFS.graph, fileId);
        } else {
          save(SLACK_REFS.graph, 'none');
        }
      }

      const fresh = input.entries.filter((e) => e.seq > Number(refs[SLACK_REFS.seq] ?? -1));
      let run: TimelineEntry[] = [];
      const postRun = async (): Promise<void> => {
        for (const m of timelineMessages(run)) {
          await post(channel, m, thread);
          save(SLACK_REFS.seq, String(m.lastSeq));
        }
        run = [];
      };
      const decisions: Decided[] = [];
      let partial = false; // a four-eyes request got one of its approvals
      const settled: TakeData[] = [];
      for (const e of fresh) {
        switch (e.kind) {
          case 'escalation.takeRequested': {
            // A take request is its own message (it mentions the group and carries Take it).
            const take = e.data.take;
            await postRun();
            const r = await post(channel, takeMessage(i.workflowId, take, await mentionOf(take.group)), thread);
            save(SLACK_REFS.take(take.rung), r.ts);
            save(SLACK_REFS.takeRequest(take.rung), JSON.stringify({ rung: take.rung, group: take.group, since: take.since, until: take.until }));
            save(SLACK_REFS.seq, String(e.seq));
            continue;
          }
          case 'escalation.taken':
          case 'escalation.takeMissed':
            settled.push(e.data.take);
            run.push(e);
            continue;
          case 'escalation.ladder': {
            run.push(e);
            if (!i.ladder) continue;
            // The ladder is one message, rewritten as escalation moves from rung to rung.
            await postRun();
            const r = await post(channel, ladderMessage(i), thread);
            save(SLACK_REFS.ladder, r.ts);
            save(SLACK_REFS.ladderKey, ladderKey(i));
            continue;
          }
          case 'approval.requested': {
            // A request is its own message (it carries buttons); what came before it is posted first.
            const request = e.data.request;
            await postRun();
            const r = await post(channel, approvalMessage(i.workflowId, request), thread);
            save(SLACK_REFS.approval(request.step), r.ts);
            save(SLACK_REFS.seq, String(e.seq));
            continue;
          }
          case 'approval.partial':
          case 'approval.decided':
          case 'approval.expired':
            run.push(e);
            if (i.approval && i.approval.at === e.at) decisions.push(i.approval);
            if (e.kind === 'approval.partial') partial = true;
            continue;
          default:
            run.push(e);
        }
      }
      await postRun();

      // A decided request loses its buttons, whoever decided and however (Slack, CLI, expiry).
      const pending = i.pendingApproval;
      const approvalTs = pending ? refs[SLACK_REFS.approval(pending.step)] : undefined;
      const decided = decisions.at(-1);
      if (pending && approvalTs && decided) await update(channel, approvalTs, approvalMessage(i.workflowId, pending, decided));
      // A partial four-eyes approval (Slack or CLI) shows on the request, which keeps its buttons.
      else if (pending && approvalTs && partial) await update(channel, approvalTs, approvalMessage(i.workflowId, pending));

      // A take request loses its button once taken, missed, or the incident ended.
      const open = Object.keys(refs).flatMap((k) => {
        const m = /^slackTake\.(\d+)$/.exec(k);
        return m && !refs[SLACK_REFS.takeSettled(Number(m[1]))] ? [Number(m[1])] : [];
      });
      for (const rung of open) {
        const how = settled.find((x) => x.rung === rung);
        if (!how && i.phase !== 'done') continue;
        const req = JSON.parse(refs[SLACK_REFS.takeRequest(rung)] ?? '{}') as TakeRequest;
        const outcome: TakeSettled = how ? { outcome: how.outcome, ...(how.by ? { by: how.by } : {}), ...(how.at ? { at: how.at } : {}) } : { outcome: 'closed' };
        await update(channel, refs[SLACK_REFS.take(rung)]!, takeMessage(i.workflowId, req, await mentionOf(req.group), outcome));
        save(SLACK_REFS.takeSettled(rung), outcome.outcome);
      }
      const ladderTs = refs[SLACK_REFS.ladder];
      if (i.ladder && ladderTs && refs[SLACK_REFS.ladderKey] !== ladderKey(i)) {
        await update(channel, ladderTs, ladderMessage(i));
        save(SLACK_REFS.ladderKey, ladderKey(i));
      }

      if (refs[SLACK_REFS.status] !== statusKey(i)) {
        await update(channel, thread, root());
        save(SLACK_REFS.status, statusKey(i));
      }
      // Kept a while after the end: a stale attempt of the last publish may still come along.
      if (i.phase === 'done') setTimeout(() => progress.delete(key), 10 * 60_000).unref();
      return out;
    }),
  };
}
