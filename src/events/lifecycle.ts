// Incident lifecycle events for other systems (config bus.nats.eventsSubject, bus.kafka.eventsTopic):
// the timeline entries that mark a turn in an incident's life, as CloudEvents 1.0 (structured JSON).
// The id is the incident id and the entry's seq, the same on every retry of the publish activity,
// so a consumer (and JetStream's duplicate window) drops a repeat. Only facts already shown in the
// Slack thread go out: the entry's message and a few typed fields, never action outputs.
import { z } from 'zod';
import type { IncidentStatus, TimelineEntry } from '../../workflows/contracts.js';
import type { IncidentSink } from '../sinks/sink.js';

export const LIFECYCLE = ['opened', 'action', 'verified', 'escalated', 'resolved'] as const;
export type Lifecycle = (typeof LIFECYCLE)[number];

export const IncidentEventSchema = z.strictObject({
  specversion: z.literal('1.0'),
  id: z.string().describe('<incident id>/<timeline seq>: stable, so consumers can drop repeats'),
  source: z.string().describe('medic/<playbook>'),
  type: z.string().describe('dev.medic.incident.<opened|action|verified|escalated|resolved>'),
  subject: z.string().describe('The incident id'),
  time: z.string(),
  datacontenttype: z.literal('application/json'),
  data: z.strictObject({
    incidentId: z.string(),
    workflowId: z.string(),
    playbook: z.string(),
    service: z.string(),
    target: z.string(),
    event: z.enum(LIFECYCLE),
    kind: z.string().describe('The timeline entry kind, e.g. action.succeeded'),
    message: z.string(),
    step: z.number().int().optional(),
    outcome: z.string().optional(),
  }),
});
export type IncidentEvent = z.infer<typeof IncidentEventSchema>;

/** Which lifecycle event an entry is, if any. */
export function lifecycleOf(e: TimelineEntry): { event: Lifecycle; outcome?: string } | undefined {
  switch (e.kind) {
    case 'alert.opened':
      return { event: 'opened' };
    case 'action.started':
      return { event: 'action', outcome: e.data.dryRun ? 'started (dry run)' : 'started' };
    case 'action.succeeded':
      return { event: 'action', outcome: 'succeeded' };
    case 'action.failed':
      return { event: 'action', outcome: 'failed' };
    case 'verification.passed':
      return { event: 'verified' };
    case 'escalation.started':
      return { event: 'escalated', outcome: e.data.reason };
    case 'resolution':
      // An escalated end was announced by escalation.started already.
      return e.data.status === 'resolved' ? { event: 'resolved', outcome: e.data.outcome } : undefined;
    default:
      return undefined;
  }
}

export function incidentEvent(e: TimelineEntry, incident: IncidentStatus): IncidentEvent | undefined {
  const l = lifecycleOf(e);
  if (!l) return undefined;
  return {
    specversion: '1.0',
    id: `${incident.incidentId}/${e.seq}`,
    source: `medic/${incident.playbook}`,
    type: `dev.medic.incident.${l.event}`,
    subject: incident.incidentId,
    time: new Date(e.at).toISOString(),
    datacontenttype: 'application/json',
    data: {
      incidentId: incident.incidentId,
      workflowId: incident.workflowId,
      playbook: incident.playbook,
      service: incident.service,
      target: incident.target,
      event: l.event,
      kind: e.kind,
      message: e.message,
      ...(e.step !== undefined ? { step: e.step } : {}),
      ...(l.outcome !== undefined ? { outcome: l.outcome } : {}),
    },
  };
}

/** A sink publishing the lifecycle events among an incident's new entries, in order. `send` must
 * be idempotent per event id (the publish activity hands the same entries again on a retry). */
export function lifecycleSink(name: string, send: (events: IncidentEvent[]) => Promise<void>): IncidentSink {
  return {
    name,
    async publish(input) {
      const events = input.entries.map((e) => incidentEvent(e, input.incident)).filter((x): x is IncidentEvent => x !== undefined);
      if (events.length > 0) await send(events);
    },
  };
}
