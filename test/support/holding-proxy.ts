// An HTTP proxy in front of the Slack stand-in for crash tests: it records every Web API call
// and can hold one, either before forwarding it (sent, not landed) or after the stand-in answered
// (landed, answer not delivered). The test kills the worker while a call is held; dropHeld() then
// discards what was held, as the network does for a process that no longer exists.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedCall {
  method: string;
  params: Record<string, string>;
  at: number;
  /** Reached the stand-in. */
  forwarded: boolean;
}
export interface Hold {
  /** request: held before it is forwarded; answer: forwarded, its answer held. */
  when: 'request' | 'answer';
  match: (c: ProxiedCall) => boolean;
}
export interface HoldingProxy {
  /** For WebClient's slackApiUrl (MEDIC_SLACK_API_URL). */
  apiUrl: string;
  calls: ProxiedCall[];
  /** Arms a hold; resolves with the call once one matching is held. */
  hold(h: Hold): Promise<ProxiedCall>;
  /** Discards every held request and answer (their connections are destroyed). */
  dropHeld(): void;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });

function paramsOf(body: string, contentType: string): Record<string, string> {
  if (contentType.startsWith('application/json')) {
    try {
      return Object.fromEntries(Object.entries(JSON.parse(body) as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(body));
}

export async function startHoldingProxy(upstream: string): Promise<HoldingProxy> {
  const calls: ProxiedCall[] = [];
  const armed: { hold: Hold; resolve: (c: ProxiedCall) => void }[] = [];
  const held = new Set<ServerResponse>();
  const take = (when: Hold['when'], c: ProxiedCall): boolean => {
    const i = armed.findIndex((a) => a.hold.when === when && a.hold.match(c));
    if (i < 0) return false;
    armed.splice(i, 1)[0]!.resolve(c);
    return true;
  };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = req.url ?? '/';
      const call: ProxiedCall = { method: /^\/api\/([\w.]+)/.exec(path)?.[1] ?? path, params: paramsOf(body, String(req.headers['content-type'] ?? '')), at: Date.now(), forwarded: false };
      calls.push(call);
      res.on('close', () => held.delete(res));
      if (take('request', call)) return void held.add(res);
      const headers: Record<string, string> = {};
      for (const h of ['content-type', 'authorization']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
      const answer = await fetch(`${upstream}${path}`, { method: req.method ?? 'POST', headers, ...(req.method === 'GET' ? {} : { body }) });
      call.forwarded = true;
      const text = await answer.text();
      if (take('answer', call)) return void held.add(res);
      const out: Record<string, string> = { 'content-type': answer.headers.get('content-type') ?? 'application/json' };
      const retryAfter = answer.headers.get('retry-after');
      if (retryAfter) out['retry-after'] = retryAfter;
      res.writeHead(answer.status, out).end(text);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    calls,
    hold: (hold) => new Promise((resolve) => armed.push({ hold, resolve })),
    dropHeld() {
      for (const res of held) res.destroy();
      held.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
