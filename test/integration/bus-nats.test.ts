// The NATS JetStream intake on a real nats-server and a real Temporal dev server: alerts in every
// accepted shape reach their incidents; hostile messages get exactly the webhook's verdict (refused
// ones dead-lettered with the webhook's issues); with Temporal unreachable the consumer holds at
// most maxInFlight messages and takes nothing more, then delivers everything once it is back.
// Events out: an incident's lifecycle reaches a JetStream stream as CloudEvents, each once although
// a flaky sink beside it makes the publish activity retry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsBusSchema, type NatsBusConfig } from '../../src/intake/bus/config.js';
import { deadLetterStream, startNatsIntake, type BusIntake } from '../../src/intake/bus/nats.js';
import { DEFAULT_INTAKE_LIMITS } from '../../src/intake/limits.js';
import { incidentWorkflowId } from '../../src/playbooks/match.js';
import { startNats, type BusServer } from '../../dev/buses.js';
import { genericBody, heldPlaybook, hostilePayloads, resolvedDemoIncident } from '../support/bus-fixtures.js';
import { silentLog } from '../support/fixtures.js';
import { startMedic, TOKENS, type Medic } from '../support/medic.js';
import { createNatsEventSink } from '../../activities/nats-events.js';
import { IncidentEventSchema, type IncidentEvent } from '../../src/events/lifecycle.js';
import { ensureStream } from '../../src/intake/bus/nats.js';
import { pollUntil } from '../support/poll.js';
import { startToggleProxy } from '../support/toggle-proxy.js';

let medic: Medic;
let nats: BusServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
const intakes: BusIntake[] = [];
const pb = heldPlaybook('bus-nats', 'BusNatsDown');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const cfg = (name: string): NatsBusConfig => NatsBusSchema.parse({ servers: [nats.url], stream: name, subject: `${name.toLowerCase()}.alerts`, consumer: `${name}-c`, deadLetterSubject: `${name.toLowerCase()}.dead` });

async function intake(c: NatsBusConfig, client = medic.env.client, maxInFlight = 16): Promise<BusIntake> {
  const i = await startNatsIntake(c, { maxInFlight }, {
    ingest: { client, taskQueue: medic.config.temporal.taskQueue, playbooks: () => [pb], incidentOptions: { fingerprintCap: 1_000 } },
    log: silentLog,
    limits: DEFAULT_INTAKE_LIMITS,
    maxMessageBytes: 64 * 1024,
    backoff: { initialMs: 100, maxMs: 500 },
  });
  intakes.push(i);
  return i;
}

async function deadLetters(c: NatsBusConfig): Promise<{ id: string; error: string }[]> {
  const info = await jsm.streams.info(deadLetterStream(c));
  const out: { id: string; error: string }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(deadLetterStream(c), { seq });
    if (m) out.push({ id: m.header.get('Medic-Original-Id'), error: m.header.get('Medic-Error') });
  }
  return out;
}

const idFor = (service: string): string => incidentWorkflowId(pb, { alertname: 'BusNatsDown', labels: { alertname: 'BusNatsDown', service } } as never);

let flakyCalls = 0;
beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  await ensureStream(jsm, 'ITEVENTS', ['itev.>']);
  // Fails every third publish: the activity retries with the same entries.
  const flakySink = { name: 'flaky', publish: async () => { if (++flakyCalls % 3 === 1) throw new Error('flaky sink down'); } };
  medic = await startMedic({ sinks: [createNatsEventSink({ js: jetstream(nc), subject: 'itev' }), flakySink] });
  medic.playbooks.push(pb);
});
afterAll(async () => {
  await Promise.all(intakes.map((i) => i.stop()));
  await nc?.close();
  await nats?.stop();
  await medic?.stop();
});

describe('NATS JetStream intake', () => {
  it('delivers Alertmanager, generic and CloudEvent messages to their incidents, each alert counted once', async () => {
    const c = cfg('INTAKE');
    await intake(c);
    const js = jetstream(nc);
    const am = { version: '4', groupKey: 'g', status: 'firing', receiver: 'medic', alerts: [{ status: 'firing', labels: { alertname: 'BusNatsDown', service: 'am', instance: 'a' }, annotations: {}, startsAt: '2026-01-01T00:00:00Z' }] };
    await js.publish(c.subject, enc(JSON.stringify(am)));
    await js.publish(`${c.subject}.generic`, enc(genericBody([{ name: 'BusNatsDown', labels: { service: 'generic', instance: 'g1' } }, { name: 'BusNatsDown', labels: { service: 'generic', instance: 'g2' } }])));
    const ce = { specversion: '1.0', id: 'evt-1', source: 'test', type: 'dev.medic.alerts.alertmanager.v4', datacontenttype: 'application/json', data: { ...am, alerts: [{ ...am.alerts[0], labels: { alertname: 'BusNatsDown', service: 'ce' } }] } };
    await js.publish(c.subject, enc(JSON.stringify(ce)));
    for (const [service, n] of [['am', 1], ['generic', 2], ['ce', 1]] as const) {
      const s = await medic.waitFor(idFor(service), (st) => st.alertsReceived >= n && st.status === 'awaiting_approval', 30_000);
      expect(s.alertsReceived, service).toBe(n);
      expect(Object.keys(s.fingerprints)).toHaveLength(n);
    }
    expect(await deadLetters(c)).toEqual([]);
  });

  it('hostile messages get the webhook verdict: refused ones dead-lettered with the same issues, injection accepted as data', async () => {
    const c = cfg('HOSTILE');
    await intake(c);
    const js = jetstream(nc);
    const cases = hostilePayloads('BusNatsDown', 'hostile');
    const verdicts: { name: string; status: number; issues: { path: string; message: string }[] }[] = [];
    for (const h of cases) {
      const res = await fetch(`${medic.url}/webhooks/${h.route}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.intake}` }, body: h.body });
      const body = (await res.json()) as { issues?: { path: string; message: string }[] };
      verdicts.push({ name: h.name, status: res.status, issues: body.issues ?? [] });
      await js.publish(c.subject, enc(h.body));
    }
    // plus what only a bus sees: an unknown schema version and an oversized message
    await js.publish(c.subject, enc(JSON.stringify({ version: '5', alerts: [] })));
    await js.publish(c.subject, enc(JSON.stringify({ specversion: '1.0', id: 'x', source: 's', type: 'dev.medic.alerts.alertmanager.v9', data: {} })));
    await js.publish(c.subject, enc(genericBody([{ name: 'BusNatsDown', labels: { service: 'hostile', blob: 'y'.repeat(70_000) } }])));
    const refused = verdicts.filter((v) => v.status >= 400);
    expect(refused.map((v) => v.status).sort()).toEqual([400, 400, 400, 400, 413, 413]);
    const dead = await pollUntil(() => deadLetters(c), (d) => d.length >= refused.length + 3, 'dead letters', 30_000);
    expect(dead).toHaveLength(refused.length + 3);
    // Same issues as the webhook told its sender (the JSON parse error is worded by each parser).
    for (const [i, v] of verdicts.entries()) {
      if (v.status < 400 || v.name === 'not JSON') continue;
      const d = dead.find((x) => x.id.endsWith(`:${i + 1}`));
      expect(d, v.name).toBeDefined();
      for (const issue of v.issues) expect(d!.error, v.name).toContain(`${issue.path}: ${issue.message}`);
    }
    expect(dead.find((d) => d.id.endsWith(':1'))!.error).toMatch(/not valid JSON/);
    expect(dead.some((d) => /unknown schema version "5"/.test(d.error))).toBe(true);
    expect(dead.some((d) => /unknown schema version: dev\.medic\.alerts\.alertmanager\.v9/.test(d.error))).toBe(true);
    expect(dead.some((d) => /oversized message; \(body\): \d+ bytes; the limit is bus.maxMessageBytes = 65536/.test(d.error))).toBe(true);
    // The injection reached the incident as plain label data, exactly once (webhook + bus = 2 alerts, same fingerprint).
    const s = await medic.waitFor(idFor('hostile'), (st) => st.alertsReceived >= 2, 30_000);
    expect(s.alertsReceived).toBe(2);
    expect(Object.keys(s.fingerprints)).toHaveLength(1);
  });

  it('Temporal unreachable: consumption pauses with at most maxInFlight unacknowledged, and resumes losing nothing', async () => {
    const c = cfg('PAUSE');
    const [host, port] = medic.env.address.split(':') as [string, string];
    const proxy = await startToggleProxy({ host, port: Number(port) });
    const client = new Client({ connection: await Connection.connect({ address: proxy.address }) });
    await proxy.down();
    await intake(c, client, 8);
    const js = jetstream(nc);
    for (let i = 0; i < 40; i++) await js.publish(c.subject, enc(genericBody([{ name: 'BusNatsDown', labels: { service: 'paused', instance: `i${i}` } }])));
    await new Promise((r) => setTimeout(r, 2_000));
    const held = await jsm.consumers.info(c.stream, c.consumer);
    expect(held.num_ack_pending).toBeLessThanOrEqual(8);
    expect(held.num_pending).toBeGreaterThanOrEqual(32); // still in the stream, not buffered by medic
    await proxy.up();
    const s = await medic.waitFor(idFor('paused'), (st) => st.alertsReceived >= 40, 60_000);
    expect(s.alertsReceived).toBe(40);
    expect(Object.keys(s.fingerprints)).toHaveLength(40);
    await pollUntil(() => jsm.consumers.info(c.stream, c.consumer), (i) => i.num_pending === 0 && i.num_ack_pending === 0, 'all acknowledged', 20_000);
    client.connection.close().catch(() => undefined);
    await proxy.close();
  });

  it('events out: the incident lifecycle as CloudEvents on JetStream, each once despite retried publishes', async () => {
    const final = await resolvedDemoIncident(medic, 'bus-events', 'events-svc');
    const read = async (): Promise<IncidentEvent[]> => {
      const info = await jsm.streams.info('ITEVENTS');
      const out: IncidentEvent[] = [];
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('ITEVENTS', { seq });
        if (m) out.push(IncidentEventSchema.parse(m.json()));
      }
      return out.filter((e) => e.subject === final.incidentId);
    };
    const events = await pollUntil(read, (evs) => evs.some((e) => e.type === 'dev.medic.incident.resolved'), 'the resolved event', 30_000);
    expect(events.map((e) => e.data.event)).toEqual(['opened', 'action', 'action', 'verified', 'resolved']);
    expect(events.map((e) => e.data.outcome ?? '')).toEqual(['', 'started', 'succeeded', '', expect.any(String)]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(flakyCalls).toBeGreaterThan(1); // the publish activity did retry
  });
});
