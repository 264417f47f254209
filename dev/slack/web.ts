// The stand-in's web page: the demo's "Slack". Channels with root messages and their threads
// rendered from Block Kit, working buttons, modals and a slash-command box, acting as a chosen
// user. Every action goes to medic's Bolt endpoint as a correctly signed request, exactly as
// Slack would send it.
import type { FastifyInstance } from 'fastify';
import { slackInteractor, type SlackInteractor } from './interact.js';
import type { SlackStandIn } from './server.js';
import { PAGE } from './web-page.js';

export interface WebUi {
  /** Where interactions go: medic's /slack/events and the app's signing secret. */
  connect(o: { eventsUrl: string; signingSecret: string }): void;
}

export function registerWebUi(app: FastifyInstance, standIn: () => SlackStandIn): WebUi {
  let interact: SlackInteractor | undefined;
  const closed = new Set<string>();
  const need = (): SlackInteractor => {
    if (!interact) throw Object.assign(new Error('the stand-in is not connected to a Slack app yet'), { statusCode: 503 });
    return interact;
  };

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  app.get('/_ui/state', async (req) => {
    const s = standIn();
    const user = String((req.query as { user?: string }).user ?? '');
    return {
      team: s.team,
      users: [...s.users.values()],
      usergroups: [...s.usergroups.values()].map((g) => ({ id: g.id, handle: g.handle })),
      channels: [...s.channels.values()].map((c) => ({
        ...c,
        messages: s.history(c.id).map((m) => ({ ...m, replies: s.thread(c.id, m.ts) })),
      })),
      ephemerals: s.ephemerals.map((e, i) => ({ ...e, i })).filter((e) => e.user === user),
      view: [...s.views.values()].filter((v) => v.user === user && !closed.has(v.id)).at(-1) ?? null,
    };
  });
  app.post('/_ui/click', async (req) => {
    const b = req.body as { user: string; channel: string; ts: string; actionId: string };
    const m = standIn().message(b.channel, b.ts);
    if (!m) throw Object.assign(new Error('no such message'), { statusCode: 404 });
    const r = await need().clickButton(b.user, m, b.actionId);
    return { status: r.status, body: r.body };
  });
  app.post('/_ui/submit', async (req) => {
    const b = req.body as { user: string; viewId: string; values: Record<string, string> };
    const r = await need().submitView(b.user, b.viewId, b.values);
    const errors = (r.body as { response_action?: string } | undefined)?.response_action === 'errors';
    if (r.status === 200 && !errors) closed.add(b.viewId);
    return { status: r.status, body: r.body };
  });
  app.post('/_ui/close', async (req) => {
    closed.add((req.body as { viewId: string }).viewId);
    return { ok: true };
  });
  app.post('/_ui/command', async (req) => {
    const b = req.body as { user: string; channel: string; text: string };
    const [command = '', ...rest] = b.text.trim().split(/\s+/);
    const r = await need().slashCommand(b.user, command, rest.join(' '), b.channel);
    return { status: r.status, body: r.body };
  });

  return {
    connect(o) {
      interact = slackInteractor({ standIn: standIn(), ...o });
    },
  };
}
