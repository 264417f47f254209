// An HTTP(S) proxy in front of a real target (kube-apiserver, Unleash, moto, the PagerDuty and
// Slack stand-ins…) for crash tests: it records every exchange (request line, body, the target's
// status) and can hold one chosen exchange at a crash point — before the request reaches the
// target, or after the target answered but before the answer reaches the client — until the test
// has killed the client process and drops it, as the network does for a process that no longer
// exists. `answer-delivered` resolves once an answer was handed over (the point between "answer
// received" and "activity completed"). `slackCall` reads an exchange as a Slack Web API call.
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

export type HoldPoint = 'before-target' | 'answer-held' | 'answer-delivered';
export const HOLD_POINTS: readonly HoldPoint[] = ['before-target', 'answer-held', 'answer-delivered'];

export interface Exchange {
  n: number;
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  body: string;
  /** Content-Type of the request, if any. */
  contentType?: string;
  /** When it reached the proxy (ms since the epoch). */
  at: number;
  /** X-Amz-Target of AWS JSON requests (the operation), else undefined. */
  amzTarget?: string;
  /** The target's answer status; undefined when it never reached the target. */
  status?: number;
  /** What the proxy did with it. */
  fate: 'passed' | 'held' | 'dropped';
}

export interface HoldingProxy {
  /** http(s)://127.0.0.1:<port> */
  url: string;
  exchanges: Exchange[];
  /** Arms a hold for the next exchange matching `match`; resolves with it once it is at `point`.
   * Several holds may be armed at once (one per case of a crash wave); each takes one exchange. */
  hold(match: (e: Exchange) => boolean, point: HoldPoint): Promise<Exchange>;
  /** Hands over the answer held for `e` (an `answer-held` hold); resolves once it is written to
   * the client. Crash tests deliver several held answers together and kill the client at once:
   * each is killed between "answer received" and "activity completed". */
  deliver(e: Exchange): Promise<Exchange>;
  /** Drops what is held (the client's connection is destroyed; a request held before the target
   * never reaches it) and disarms every hold. */
  drop(): void;
  close(): Promise<void>;
}

export interface HoldingProxyOptions {
  /** Where requests go, e.g. https://127.0.0.1:6443. */
  target: string;
  /** CA of an HTTPS target. */
  ca?: string;
  /** Serve HTTPS with this certificate (clients that only speak HTTPS, like pdjs). */
  tls?: { cert: string; key: string };
}

interface Armed {
  match: (e: Exchange) => boolean;
  point: HoldPoint;
  resolve: (e: Exchange) => void;
}

export async function startHoldingProxy(o: HoldingProxyOptions): Promise<HoldingProxy> {
  const target = new URL(o.target);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const exchanges: Exchange[] = [];
  let armed: Armed[] = [];
  const held: { exchange: Exchange; res: ServerResponse; answer?: () => Promise<void> }[] = [];

  const forward = (req: IncomingMessage, body: Buffer, onAnswer: (status: number, headers: IncomingMessage['headers'], answer: Buffer) => void, onError: (err: Error) => void): void => {
    const up = send(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, ...(o.ca ? { ca: o.ca } : {}) },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => onAnswer(r.statusCode ?? 502, r.headers, Buffer.concat(chunks)));
      },
    );
    up.on('error', onError);
    up.end(body);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const amz = req.headers['x-amz-target'];
      const type = req.headers['content-type'];
      const exchange: Exchange = {
        n: exchanges.length + 1,
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        body: body.toString('utf8'),
        at: Date.now(),
        ...(type ? { contentType: type } : {}),
        ...(typeof amz === 'string' ? { amzTarget: amz } : {}),
        fate: 'passed',
      };
      exchanges.push(exchange);
      const hit = armed.find((a) => a.match(exchange));
      if (hit) armed = armed.filter((a) => a !== hit);
      if (hit?.point === 'before-target') {
        exchange.fate = 'held';
        held.push({ exchange, res });
        hit.resolve(exchange);
        return;
      }
      forward(
        req,
        body,
        (status, headers, answer) => {
          exchange.status = status;
          const h = { ...headers };
          delete h['transfer-encoding'];
          const write = (): Promise<void> =>
            new Promise((r) => res.writeHead(status, { ...h, 'content-length': String(answer.length) }).end(answer, () => r()));
          if (hit?.point === 'answer-held') {
            exchange.fate = 'held';
            held.push({ exchange, res, answer: write });
            hit.resolve(exchange);
            return;
          }
          void write().then(() => hit?.resolve(exchange));
        },
        (err) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${err.message}`);
        },
      );
    });
  };

  const server: Server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, handler) : createHttpServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    exchanges,
    hold(match, point) {
      return new Promise<Exchange>((resolve) => {
        armed.push({ match, point, resolve });
      });
    },
    async deliver(e) {
      const i = held.findIndex((h) => h.exchange === e && h.answer);
      if (i < 0) throw new Error(`no answer held for ${e.method} ${e.url}`);
      const [h] = held.splice(i, 1);
      h!.exchange.fate = 'passed';
      await h!.answer!();
      return e;
    },
    drop() {
      armed = [];
      for (const h of held.splice(0)) {
        h.exchange.fate = 'dropped';
        h.res.socket?.destroy();
      }
    },
    async close() {
      for (const h of held.splice(0)) h.res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A Slack Web API call: its method (from /api/<method>) and its parameters (form or JSON body,
 * non-string JSON values re-encoded as JSON). */
export interface SlackCall {
  method: string;
  params: Record<string, string>;
}

export function slackCall(e: Exchange): SlackCall {
  const method = /^\/api\/([\w.]+)/.exec(e.url)?.[1] ?? e.url;
  if (!e.contentType?.startsWith('application/json')) return { method, params: Object.fromEntries(new URLSearchParams(e.body)) };
  try {
    const json = JSON.parse(e.body) as Record<string, unknown>;
    return { method, params: Object.fromEntries(Object.entries(json).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) };
  } catch {
    return { method, params: {} };
  }
}
