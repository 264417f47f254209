// Builders for playbooks and alerts used across tests; they go through the real zod schema.
import { pino } from 'pino';
import { PlaybookSchema, type Playbook, type PlaybookInput } from '../../src/playbooks/schema.js';
import type { Alert } from '../../src/intake/schemas.js';

export const silentLog = pino({ level: 'silent' });

export function demoPlaybook(serviceUrl: string, overrides: Partial<PlaybookInput> = {}): Playbook {
  return PlaybookSchema.parse({
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
