// A local PagerDuty Events API v2 stand-in over HTTPS (pdjs always posts to
// https://<server>/v2/enqueue). It validates events like PagerDuty (400 "invalid event" with
// errors), keeps one alert per dedup_key (a repeated trigger updates it, resolve closes it, a
// trigger after that opens a new one), answers 429 past ~120 events a minute per routing key,
// records everything it received, and shows it: GET /_stand-in/events, /_stand-in/alerts, and a
// small page at /_stand-in. Used by the tests and the embedded demo; never in production.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { makeDevCertificates, type DevCertificates } from './certs.js';
import { MAX_EVENT_BYTES, validateEvent } from './validate.js';

export interface ReceivedEvent {
  n: number;
  at: string;
  status: number;
  /** The request body as parsed (or the raw text when it was not JSON). */
  body: unknown;
  response: unknown;
}

export interface StandInAlert {
  dedupKey: string;
  routingKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  summary: string;
  severity: string;
  /** Events applied to this alert (the first trigger, repeats, acknowledge, resolve). */
  log: { action: string; at: string }[];
  lastPayload: unknown;
  openedAt: string;
  resolvedAt?: string;
}

export interface StandInState {
  /** While true every request answers 503, as during a PagerDuty outage. */
  outage: boolean;
  /** The next N requests are refused with 429, whatever the rate. */
  throttleNext: number;
}

export interface PagerDutyStandIn {
  /** Host:port for pdjs's `server` option. */
  server: string;
  url: string;
  certs: DevCertificates;
  state: StandInState;
  events: ReceivedEvent[];
  alerts: StandInAlert[];
  /** Alerts (open or not) for a dedup key, oldest first. */
  alertsFor(dedupKey: string): StandInAlert[];
  close(): Promise<void>;
}

export interface StandInOptions {
  port?: number;
  host?: string;
  /** Accepted events per routing key in any 60 s window (PagerDuty: about 120). */
  ratePerMinute?: number;
  /** Reuse certificates (e.g. a CA already trusted through NODE_EXTRA_CA_CERTS). */
  certs?: DevCertificates;
}

const ok = (dedupKey: string) => ({ status: 'success', message: 'Event processed', dedup_key: dedupKey });

export async function startPagerDutyStandIn(o: StandInOptions = {}): Promise<PagerDutyStandIn> {
  const certs = o.certs ?? (await makeDevCertificates());
  const rate = o.ratePerMinute ?? 120;
  const state: StandInState = { outage: false, throttleNext: 0 };
  const events: ReceivedEvent[] = [];
  const alerts: StandInAlert[] = [];
  const accepted = new Map<string, number[]>();
  const open = (routingKey: string, dedupKey: string): StandInAlert | undefined =>
    alerts.find((a) => a.routingKey === routingKey && a.dedupKey === dedupKey && a.status !== 'resolved');

  const app: FastifyInstance = Fastify({ https: { key: certs.key, cert: certs.cert }, bodyLimit: 4 * MAX_EVENT_BYTES });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post('/v2/enqueue', async (req, reply) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const answer = (status: number, response: unknown, body: unknown) => {
      events.push({ n: events.length + 1, at: new Date().toISOString(), status, body, response });
      return reply.code(status).send(response);
    };
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Could not parse JSON'] }, raw);
    }
    if (state.outage) return answer(503, { status: 'unavailable', message: 'Service Unavailable' }, body);
    if (Buffer.byteLength(raw) > MAX_EVENT_BYTES) {
      return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Event object is larger than 512 KB'] }, body);
    }
    const errors = validateEvent(body);
    if (errors.length > 0) return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors }, body);
    const ev = body as { routing_key: string; event_action: 'trigger' | 'acknowledge' | 'resolve'; dedup_key?: string; payload?: Record<string, unknown> };
    const now = Date.now();
    const window = (accepted.get(ev.routing_key) ?? []).filter((t) => now - t < 60_000);
    accepted.set(ev.routing_key, window);
    if (state.throttleNext > 0 || window.length >= rate) {
      state.throttleNext = Math.max(0, state.throttleNext - 1);
      return answer(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly. Please retry later.' }, body);
    }
    window.push(now);
    const at = new Date(now).toISOString();
    const dedupKey = ev.dedup_key ?? randomUUID().replace(/-/g, '');
    const alert = open(ev.routing_key, dedupKey);
    if (ev.event_action === 'trigger') {
      const p = ev.payload!;
      if (alert) {
        alert.summary = String(p.summary);
        alert.severity = String(p.severity);
        alert.lastPayload = body;
        alert.log.push({ action: 'trigger', at });
      } else {
        alerts.push({
          dedupKey,
          routingKey: ev.routing_key,
          status: 'triggered',
          summary: String(p.summary),
          severity: String(p.severity),
          log: [{ action: 'trigger', at }],
          lastPayload: body,
          openedAt: at,
        });
      }
    } else if (alert) {
      // acknowledge/resolve apply to the open alert; without one PagerDuty drops them (still 202)
      alert.log.push({ action: ev.event_action, at });
      alert.status = ev.event_action === 'resolve' ? 'resolved' : 'acknowledged';
      if (ev.event_action === 'resolve') alert.resolvedAt = at;
    }
    return answer(202, ok(dedupKey), body);
  });

  app.get('/_stand-in/events', async () => ({ events }));
  app.get('/_stand-in/alerts', async () => ({ alerts }));
  app.get('/_stand-in', async (_req, reply) => reply.type('text/html').send(page(alerts, events)));

  const address = await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 });
  const port = new URL(address).port;
  return {
    server: `localhost:${port}`,
    url: `https://localhost:${port}`,
    certs,
    state,
    events,
    alerts,
    alertsFor: (dedupKey) => alerts.filter((a) => a.dedupKey === dedupKey),
    close: () => app.close(),
  };
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function page(alerts: StandInAlert[], events: ReceivedEvent[]): string {
  const rows = alerts
    .map((a) => `<tr><td>${esc(a.status)}</td><td>${esc(a.severity)}</td><td>${esc(a.summary)}</td><td><code>${esc(a.dedupKey)}</code></td><td>${a.log.length}</td><td>${esc(a.openedAt)}</td></tr>`)
    .join('');
  const recent = events
    .slice(-50)
    .reverse()
    .map((e) => `<details><summary>#${e.n} ${esc(e.at)} → ${e.status}</summary><pre>${esc(JSON.stringify(e.body, null, 2))}</pre></details>`)
    .join('');
  return `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>PagerDuty stand-in</title>
<style>body{font:14px system-ui;margin:2em}td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}pre{background:#f6f6f6;padding:8px}</style>
<h1>PagerDuty stand-in</h1><h2>Alerts</h2><table><tr><th>status</th><th>severity</th><th>summary</th><th>dedup_key</th><th>events</th><th>opened</th></tr>${rows}</table>
<h2>Events received (latest first)</h2>${recent || '<p>none yet</p>'}`;
}
