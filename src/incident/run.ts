// One transition of the decision core in progress: the state being changed, the timeline entries
// noted and the commands produced. Shared by the phases (machine.ts) and the ladder (escalation.ts).
import { toMs } from '../playbooks/duration.js';
import type { Step } from '../playbooks/schema.js';
import type { IncidentStatusName, TimelineEntry } from '../../workflows/contracts.js';
import { entry, type NewEntry } from '../../workflows/contracts-timeline.js';
import { record } from './state.js';
import { endSilence } from './silences.js';
import { collect } from './evidence.js';
import type { IncidentCommand, IncidentEnv, IncidentState, MachineState, TimerName, Transition } from './types.js';

export class Run {
  readonly commands: IncidentCommand[] = [];
  private readonly noted: TimelineEntry[] = [];
  readonly m: MachineState;
  constructor(
    readonly env: IncidentEnv,
    readonly s: IncidentState,
    readonly at: number,
  ) {
    this.m = s.machine ??= { timers: 0 };
  }
  note(e: NewEntry): void {
    this.noted.push(record(this.s, this.env.options.timelineCap, { ...e, at: this.at }));
  }
  emit(c: IncidentCommand): void {
    this.commands.push(c);
  }
  /** A unique key for a governor call (its Update id). */
  key(purpose: string): string {
    return `${this.env.incidentId}:${purpose}:${++this.s.calls}`;
  }
  setStatus(status: IncidentStatusName): void {
    if (this.s.status === status) return;
    this.s.status = status;
    this.emit({ kind: 'setStatus', status });
  }
  label(i = this.s.stepIndex): string {
    const pb = this.env.playbook;
    return `step ${i + 1}/${pb.steps.length} (${pb.steps[i]?.name ?? '?'})`;
  }
  step(): Step {
    const step = this.env.playbook.steps[this.s.stepIndex];
    if (!step) throw new Error(`no step ${this.s.stepIndex} in ${this.env.playbook.name}`);
    return step;
  }
  /** Nothing more to do: the alert resolved, or a person resolved the incident. */
  ended(): boolean {
    return this.s.resolvedByAlert || this.s.resolvedBy !== undefined;
  }
  /** Waits on a durable timer (machine.ts woken() says which events end it early). */
  wait(timer: TimerName, ms: number, extra: { paused?: boolean; lock?: boolean } = {}): void {
    const id = ++this.m.timers;
    const d = Math.max(0, ms);
    this.m.wait = { id, timer, until: this.at + d, ...extra };
    this.emit({ kind: 'startTimer', id, timer, ms: d });
  }
  cancelWait(): void {
    if (!this.m.wait) return;
    this.emit({ kind: 'cancelTimer', id: this.m.wait.id });
    this.m.wait = undefined;
  }
  done(): Transition {
    // A timer started and cancelled within one transition is never armed.
    const cancelled = new Set(this.commands.flatMap((c) => (c.kind === 'cancelTimer' ? [c.id] : [])));
    const commands = this.commands.filter((c) => !((c.kind === 'startTimer' || c.kind === 'cancelTimer') && cancelled.has(c.id) && this.commands.some((x) => x.kind === 'startTimer' && x.id === c.id)));
    if (this.noted.length > 0) commands.push({ kind: 'publish', entries: this.noted });
    return { state: this.s, commands };
  }
}

export function toEscalation(r: Run, reason: string): void {
  if (r.s.phase !== 'escalate' && r.s.phase !== 'done') collect(r, 'escalation');
  r.s.escalationReason = reason;
  r.s.phase = 'escalate';
}

/** Ends the incident: the last entry, and the target released (with a cooldown when it acted
 * and still escalated). */
export function finish(r: Run, status: 'resolved' | 'escalated', outcome: string, unverifiedStep?: number): void {
  const { s } = r;
  r.setStatus(status);
  s.outcome = outcome;
  s.endedAt = r.at;
  s.phase = 'done';
  r.m.finishing = undefined;
  r.note(entry.resolution({ message: `${status}: ${outcome}`, data: { status, outcome, ...(unverifiedStep !== undefined ? { unverifiedStep } : {}) } }));
  const cooldownMs = status === 'escalated' && s.acted ? toMs(r.env.playbook.cooldown) : undefined;
  endSilence(r);
  if (s.undos?.length) r.emit({ kind: 'endUndos', workflowIds: s.undos, resolved: status === 'resolved' });
  r.m.released = true;
  r.emit({ kind: 'release', key: r.key('release'), ...(cooldownMs !== undefined ? { cooldownMs } : {}) });
}

/** Ends the incident once its PagerDuty pages are resolved (escalation.ts continueFinishing). */
export function endWith(r: Run, status: 'resolved' | 'escalated', outcome: string): void {
  r.m.finishing = { status, outcome, page: 0 };
}
