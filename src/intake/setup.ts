// The intake's delivery dependencies as the config asks for them, shared by the webhook routes
// (src/server/app.ts) and the bus intake (src/intake/bus/main.ts), so both deliver alerts alike.
import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Playbook } from '../playbooks/schema.js';
import { Correlator } from './correlate.js';
import type { IngestDeps } from './ingest.js';
import { DEFAULT_INTAKE_LIMITS } from './limits.js';
import { OpenIncidents } from './open-incidents.js';

export function intakeDeliveryDeps(config: Config, d: { client: Client; playbooks: () => Playbook[]; store?: boolean; onIncident?: (workflowId: string) => void }): Omit<IngestDeps, 'log'> {
  const limits = config.intake?.limits ?? DEFAULT_INTAKE_LIMITS;
  return {
    client: d.client,
    taskQueue: config.temporal.taskQueue,
    playbooks: d.playbooks,
    // Similar past incidents are looked up at open when there is a store to look in.
    incidentOptions: { fingerprintCap: limits.maxFingerprintsPerIncident, ...(config.store || d.store ? { similar: true } : {}) },
    openIncidents: new OpenIncidents({ client: d.client, taskQueue: config.temporal.taskQueue, cap: limits.maxOpenIncidentsPerPlaybook }),
    ...(d.onIncident ? { onIncident: d.onIncident } : {}),
    ...(config.correlation ? { correlator: new Correlator(config.correlation) } : {}),
  };
}
