// Pure parts of the bus intake and events out: decoding one message (same verdicts as the webhook,
// plus the bus-only ones), the incident counting a redelivered alert once (a property over
// arbitrary redelivery orders), the bus config, and which timeline entries become lifecycle events.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { incidentEvent, lifecycleOf } from '../../src/events/lifecycle.js';
import { applyAlerts, DELIVERY_WINDOW, newState } from '../../src/incident/state.js';
import { decodeBusMessage, deadLetterReason } from '../../src/intake/bus/decode.js';
import { DEFAULT_INTAKE_LIMITS } from '../../src/intake/limits.js';
import { entry } from '../../workflows/contracts-timeline.js';
import type { Alert, IncidentStatus, TimelineEntry } from '../../workflows/contracts.js';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const decode = (v: unknown, maxBytes = 65_536) => decodeBusMessage(enc(v), { limits: DEFAULT_INTAKE_LIMITS, maxBytes, delivery: 's:1', receivedAt: 1_000 });
const am = { version: '4', groupKey: 'g', status: 'firing', receiver: 'r', alerts: [{ status: 'firing', labels: { alertname: 'A', service: 's' }, annotations: {}, startsAt: '2026-01-01T00:00:00Z' }] };

describe('decodeBusMessage', () => {
  it('takes Alertmanager, Grafana, generic and CloudEvent bodies, stamping the delivery on each alert', () => {
    const grafana = { version: '1', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'G' }, startsAt: '2026-01-01T00:00:00Z' }] };
    const generic = { alerts: [{ name: 'N' }, { name: 'M', status: 'resolved' }] };
    const ce = { specversion: '1.0', id: '1', source: 'x', type: 'dev.medic.alerts.generic.v1', data: generic };
    for (const [body, format, n] of [[am, 'alertmanager', 1], [grafana, 'grafana', 1], [generic, 'generic', 2], [ce, 'generic', 2]] as const) {
      const d = decode(body);
      expect(d).toMatchObject({ ok: true, format });
      if (d.ok) {
        expect(d.alerts).toHaveLength(n);
        expect(d.alerts.every((a) => a.delivery === 's:1' && a.receivedAt === 1_000)).toBe(true);
      }
    }
  });

  it.each([
    ['not JSON', '{"alerts": [', /^malformed message: not valid JSON; \(body\): not valid JSON$/],
    ['a JSON array', '[1,2]', /^malformed message: not a JSON object/],
    ['no recognisable shape', { hello: 1 }, /^unknown payload.*\(body\): no version, alerts or specversion field/],
    ['an unknown webhook version', { ...am, version: '5' }, /^unknown schema version "5"; version: must be "4"/],
    ['an unknown CloudEvents specversion', { specversion: '0.3', id: '1', source: 's', type: 'dev.medic.alerts.generic.v1', data: {} }, /^unknown schema version: CloudEvents specversion "0.3"/],
    ['a known CloudEvent type with an unknown version', { specversion: '1.0', id: '1', source: 's', type: 'dev.medic.alerts.generic.v2', data: {} }, /^unknown schema version: dev\.medic\.alerts\.generic\.v2; type: must be one of/],
    ['a foreign CloudEvent type', { specversion: '1.0', id: '1', source: 's', type: 'com.example.thing', data: {} }, /^unknown CloudEvent type: com\.example\.thing/],
    ['a CloudEvent without source', { specversion: '1.0', id: '1', type: 'dev.medic.alerts.generic.v1', data: {} }, /^invalid CloudEvent; source: /],
    ['alertname missing (as the webhook: 400)', { ...am, alerts: [{ ...am.alerts[0], labels: { service: 's' } }] }, /^invalid alertmanager payload; alerts\.0\.labels: labels\.alertname is required/],
    ['a label over maxLabelBytes (as the webhook: 413)', { ...am, alerts: [{ ...am.alerts[0], labels: { alertname: 'A', x: 'y'.repeat(1_025) } }] }, /over intake limits.*alerts\.0\.labels\.x: value is 1025 bytes; the limit is intake\.limits\.maxLabelBytes = 1024/],
  ])('dead-letters %s, naming the field and rule', (_name, body, reason) => {
    const d = decode(body);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(deadLetterReason(d)).toMatch(reason);
  });

  it('dead-letters an oversized message before parsing it', () => {
    const d = decode({ alerts: [{ name: 'x'.repeat(100) }] }, 1_024 + 10);
    expect(d.ok).toBe(true);
    const big = decode({ alerts: [{ name: 'A', labels: { blob: 'z'.repeat(2_000) } }] }, 1_024);
    expect(!big.ok && deadLetterReason(big)).toMatch(/^oversized message; \(body\): \d+ bytes; the limit is bus\.maxMessageBytes = 1024$/);
  });

  it('keeps a dead-letter reason on one bounded line (it travels as a header)', () => {
    const d = decode({ alerts: Array.from({ length: 30 }, () => ({ name: '', bad: '\n'.repeat(50) })) });
    expect(!d.ok && deadLetterReason(d)).toSatisfy((r: string) => !/[\r\n]/.test(r) && r.length <= 2_001);
  });
});

const alert = (fingerprint: string, delivery?: string): Alert => ({
  status: 'firing', alertname: 'A', severity: 'warning', labels: { alertname: 'A' }, annotations: {}, startsAt: '', fingerprint, source: 'generic', receivedAt: 0,
  ...(delivery ? { delivery } : {}),
});

describe('an incident counts a redelivered bus alert once', () => {
  it('property: any batching and redelivery of the same messages counts each alert exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.array(fc.nat(), { maxLength: 200 }), fc.integer({ min: 1, max: 16 }), (n, redelivered, batch) => {
        const messages = Array.from({ length: n }, (_, i) => alert(`f${i % 7}`, `S:${i}`));
        // each message once in order, plus arbitrary redeliveries interleaved (as after crashes)
        const stream = [...messages, ...redelivered.map((r) => messages[r % n]!)];
        const s = newState('incident:p:x', messages[0]!, 0);
        for (let i = 0; i < stream.length; i += batch) applyAlerts(s, stream.slice(i, i + batch), 1_000);
        expect(s.alertsReceived).toBe(n);
        expect(s.redeliveries ?? 0).toBe(redelivered.length);
      }),
    );
  });

  it('the same fingerprint in two messages is two alerts; without a delivery id nothing is deduplicated (webhooks)', () => {
    const s = newState('incident:p:x', alert('f'), 0);
    applyAlerts(s, [alert('f', 'S:1'), alert('f', 'S:2'), alert('f'), alert('f')], 1_000);
    expect(s.alertsReceived).toBe(4);
  });

  it('remembers at most DELIVERY_WINDOW deliveries (the state stays bounded)', () => {
    const s = newState('incident:p:x', alert('f'), 0);
    applyAlerts(s, Array.from({ length: DELIVERY_WINDOW + 100 }, (_, i) => alert('f', `S:${i}`)), 1_000);
    expect(s.deliveries).toHaveLength(DELIVERY_WINDOW);
    expect(s.deliveries![0]).toBe('S:100|f');
  });
});

describe('bus config', () => {
  it('reads brokers and servers from comma-separated env vars, with defaults', () => {
    const c = loadConfig({ MEDIC_NATS_SERVERS: 'nats://a:4222, nats://b:4222', MEDIC_KAFKA_BROKERS: 'k1:9092,k2:9092', MEDIC_KAFKA_EVENTS_TOPIC: 'medic.events' });
    expect(c.bus?.nats).toMatchObject({ servers: ['nats://a:4222', 'nats://b:4222'], stream: 'MEDIC_ALERTS', consumer: 'medic-intake', intake: true });
    expect(c.bus?.kafka).toMatchObject({ brokers: ['k1:9092', 'k2:9092'], topic: 'medic.alerts', eventsTopic: 'medic.events', sessionTimeoutMs: 30_000 });
    expect(c.bus?.maxInFlight).toBe(64);
  });

  it('refuses a wildcard subject and an in-flight bound past the delivery window, naming the field', () => {
    expect(() => loadConfig({ MEDIC_NATS_SERVERS: 'nats://a:4222', MEDIC_BUS_MAX_IN_FLIGHT: '5000' })).toThrow(/bus\.maxInFlight/);
    const bad = { bus: { nats: { servers: ['nats://a'], subject: 'medic.>' } } };
    expect(() => loadConfig({ MEDIC_CONFIG: writeTemp(bad) })).toThrow(/bus\.nats\.subject: a NATS subject without wildcards/);
  });
});

describe('lifecycle events', () => {
  const incident = { incidentId: 'incident:p:abc/run1', workflowId: 'incident:p:abc', playbook: 'p', service: 'svc', target: 'svc' } as IncidentStatus;
  const at = (e: ReturnType<(typeof entry)['alertOpened']>, seq: number): TimelineEntry => ({ ...e, seq, at: 1_767_225_600_000 }) as TimelineEntry;

  it('maps the turning points to the five events, with a stable id per entry', () => {
    const entries = [
      at(entry.alertOpened({ message: 'opened', data: { detection: { source: 'generic' } } }), 0),
      at(entry.alertReceived({ message: 'again', data: { labels: {} } }), 1),
      at(entry.actionSucceeded({ message: 'done', step: 0, data: { dryRun: false, output: { secret: 'x' } } }), 2),
      at(entry.verificationPassed({ message: 'ok', step: 0, data: {} }), 3),
      at(entry.escalationStarted({ message: 'esc', data: { reason: 'verification failed' } }), 4),
      at(entry.resolution({ message: 'healed', data: { status: 'resolved', outcome: 'healed by restart' } }), 5),
      at(entry.resolution({ message: 'gave up', data: { status: 'escalated', outcome: 'paged' } }), 6),
    ];
    const events = entries.map((e) => incidentEvent(e, incident));
    expect(events.map((e) => e?.type)).toEqual([
      'dev.medic.incident.opened', undefined, 'dev.medic.incident.action', 'dev.medic.incident.verified', 'dev.medic.incident.escalated', 'dev.medic.incident.resolved', undefined,
    ]);
    expect(events[2]).toMatchObject({ id: 'incident:p:abc/run1/2', subject: incident.incidentId, time: '2026-01-01T00:00:00.000Z', data: { outcome: 'succeeded', step: 0 } });
    expect(JSON.stringify(events[2])).not.toContain('secret'); // action outputs stay out
    expect(lifecycleOf(entries[4]!)).toEqual({ event: 'escalated', outcome: 'verification failed' });
  });
});

function writeTemp(v: unknown): string {
  const f = join(mkdtempSync(join(tmpdir(), 'medic-bus-cfg-')), 'c.json');
  writeFileSync(f, JSON.stringify(v));
  return f;
}
