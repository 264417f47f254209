// Who may approve or administer, from Slack's point of view: user ids (U…) listed directly, or
// membership of a user group named by its @handle, resolved with usergroups.list +
// usergroups.users.list and cached for a minute. Any lookup failure means "no": default deny.
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';

export function slackAccess(web: WebClient, log: Logger, ttlMs = 60_000) {
  let handles: { at: number; ids: Map<string, string> } | undefined;
  const members = new Map<string, { at: number; users: Set<string> }>();

  async function groupId(handle: string): Promise<string | undefined> {
    if (!handles || Date.now() - handles.at > ttlMs) {
      const r = await web.usergroups.list({});
      handles = { at: Date.now(), ids: new Map((r.usergroups ?? []).map((g) => [`@${g.handle}`, g.id!])) };
    }
    return handles.ids.get(handle);
  }

  async function membersOf(group: string): Promise<Set<string>> {
    const cached = members.get(group);
    if (cached && Date.now() - cached.at <= ttlMs) return cached.users;
    const id = group.startsWith('@') ? await groupId(group) : group;
    if (!id) return new Set();
    const r = await web.usergroups.users.list({ usergroup: id });
    const users = new Set(r.users ?? []);
    members.set(group, { at: Date.now(), users });
    return users;
  }

  /** The first group in `list` (an @handle or S… id) that has `user` as a member. */
  async function groupVia(list: string[], user: string): Promise<string | undefined> {
    for (const entry of list.filter((a) => a.startsWith('@') || /^S[A-Z0-9]+$/.test(a))) {
      try {
        if ((await membersOf(entry)).has(user)) return entry;
      } catch (err) {
        log.warn({ err, group: entry }, 'could not resolve Slack user group; treating as not a member');
      }
    }
    return undefined;
  }

  async function allowed(list: string[], user: string): Promise<boolean> {
    return list.includes(user) || (await groupVia(list, user)) !== undefined;
  }

  return { groupVia, allowed };
}
export type SlackAccess = ReturnType<typeof slackAccess>;
