// Builders for playbooks and alerts used across tests; they go through the real zod schema.
import { pino } from 'pino';
import { PlaybookSchema, type Playbook, type PlaybookInput } from '../../src/playbooks/schema.js';
import type { Alert } from '../../src/intake/schemas.js';

export const silentLog = pino({ level: 'silent' });

/** The playbooks this test process built (demoPlaybook, testPlaybook) or registered: what its
 * in-process medic workers load, as a deployed worker loads its playbook files. A body that was
 * not built here (e.g. a forged one) is unknown to them. */
const loaded = new Set<Playbook>();
export const registerPlaybooks = (...pbs: Playbook[]): void => pbs.forEach((pb) => loaded.add(pb));
export const knownPlaybooks = (): Playbook[] => [...loaded];

/** A playbook parsed by the real schema and loaded by this process's test workers. */
export function testPlaybook(input: PlaybookInput): Playbook {
  const pb = PlaybookSchema.parse(input);
  loaded.add(pb);
  return pb;
}

export function demoPlaybook(serviceUrl: string, overrides: Partial<PlaybookInput> = {}): Playbook {
  return testPlaybook({
    name: 'demo-down',
    match: { alertname: 'DemoServiceDown' },
    groupBy: ['alertname', 'service'],
    target: '{{labels.service}}',
    steps: [
      {
        name: 'restart',
        action: 'http',
        params: { method: 'POST', url: `${serviceUrl}/remediate`, expectStatus: [200] },
        timeout: '5s',
        retries: 2,
        verification: { http: { url: `${serviceUrl}/healthz` }, window: '2s', interval: '500ms', deadline: '20s' },
      },
    ],
    ...overrides,
  } satisfies PlaybookInput);
}

let seq = 0;
export function firingAlert(labels: Record<string, string> = {}, status: Alert['status'] = 'firing'): Alert {
  const all = { alertname: 'DemoServiceDown', service: `demo-${process.pid}-${++seq}`, severity: 'critical', ...labels };
  return {
    status,
    alertname: all.alertname,
    severity: all.severity,
    labels: all,
    annotations: { summary: 'demo service is down' },
    startsAt: new Date().toISOString(),
    fingerprint: '',
    source: 'alertmanager',
    receivedAt: Date.now(),
  };
}
