// Drives the pure decision core (src/incident/machine.ts) in unit tests: a real playbook and env
// (workflows/describe.ts), a clock, and every command the core answered with.
import { next } from '../../src/incident/machine.js';
import { newState } from '../../src/incident/state.js';
import type { IncidentCommand, IncidentEnv, IncidentEvent, IncidentState, UntimedEvent } from '../../src/incident/types.js';
import { withFingerprint } from '../../src/intake/ingest.js';
import { targetOf } from '../../src/playbooks/match.js';
import type { Playbook, PlaybookInput } from '../../src/playbooks/schema.js';
import type { Alert, AdmitResult } from '../../workflows/contracts.js';
import { incidentEnv } from '../../workflows/describe.js';
import { firingAlert, testPlaybook } from './fixtures.js';

export const T0 = Date.parse('2026-03-02T10:00:00Z');

export interface CoreDriver {
  readonly state: IncidentState;
  now: number;
  alert: Alert;
  /** Every command so far, in order. */
  all: IncidentCommand[];
  send(e: UntimedEvent, advanceMs?: number): IncidentCommand[];
  /** Fires the wait the core is in (advancing the clock to its end). */
  fire(): IncidentCommand[];
  kinds(cs: IncidentCommand[]): string[];
  notes(): string[];
  /** The playbook's step `i`, and the mode the incident runs in. */
  step(i: number): Playbook['steps'][number];
  mode: IncidentEnv['mode'];
}

/** A playbook for the decision core's tests: alertname DemoServiceDown, target the service label,
 * a 1-minute hold after escalating, the given steps (and `over` on top). */
export const corePlaybook = (name: string, steps: PlaybookInput['steps'], over: Partial<PlaybookInput> = {}): Playbook =>
  testPlaybook({ name, match: { alertname: 'DemoServiceDown' }, target: '{{labels.service}}', holdAfterEscalation: '1m', steps, ...over });

export const ALLOW: AdmitResult = { granted: true, pause: { paused: false }, decisions: [], allowed: true };

export function coreDriver(pb: Playbook, o: { labels?: Record<string, string>; requestedBy?: string; timelineCap?: number; similar?: boolean } = {}): CoreDriver {
  const alert = withFingerprint({ ...firingAlert({ service: 'api', ...o.labels }), startsAt: new Date(T0).toISOString(), receivedAt: T0 });
  const input = { playbook: pb, alert, target: targetOf(pb, alert), ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}) };
  const env = incidentEnv({ input, incidentId: 'inc-1', workflowId: 'wf-1', options: { timelineCap: o.timelineCap ?? 200, lockLeaseMs: 7_200_000, fingerprintCap: 1_000, ...(o.similar ? { similar: true } : {}) } });
  let state = newState('inc-1', alert, T0);
  const d: CoreDriver = {
    get state() {
      return state;
    },
    now: T0,
    alert,
    all: [],
    send(e, advanceMs = 0) {
      d.now += advanceMs;
      const t = next(env, state, { ...e, at: d.now } as IncidentEvent);
      state = t.state;
      d.all.push(...t.commands);
      return t.commands;
    },
    fire() {
      const w = state.machine?.wait;
      if (!w) throw new Error(`no wait to fire (phase ${state.phase})`);
      d.now = Math.max(d.now, w.until);
      return d.send({ kind: 'timer', id: w.id });
    },
    kinds: (cs) => cs.map((c) => c.kind),
    notes: () => state.timeline.map((e) => e.message),
    step: (i) => pb.steps[i]!,
    mode: env.mode,
  };
  return d;
}
