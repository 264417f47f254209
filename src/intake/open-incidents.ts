// The open-incidents-per-playbook cap. A flood of distinct alert groups must not make medic act N
// times: past the cap, new groups of a playbook go to its one overflow incident, which records
// and escalates them and never acts (workflows/incident.ts, `overflow`).
//
// How open incidents are counted, and why here: from Temporal visibility (running incident
// workflows of this task queue whose id starts with `incident:<playbook>:`), plus a ledger of the
// incidents this process started recently that visibility may not list yet (it is eventually
// consistent). Decisions for one playbook are serialized, so one server never exceeds the cap;
// several replicas can each overshoot by what they start within visibility's lag (milliseconds
// on SQL visibility). A counter in the governor workflow would be exact across replicas, but it
// would put one more Update on the governor for every new group — at flood rate, into the one
// workflow every incident's gates already queue on (npm run bench:capacity: flooding it makes
// throughput collapse) — and a terminated incident would keep its slot until something
// reconciled it with visibility anyway. Visibility forgets a terminated incident by itself.
import type { Client } from '@temporalio/client';
import { INCIDENT_WORKFLOW_TYPE } from '../../workflows/contracts.js';

export const overflowWorkflowId = (playbook: string): string => `incident:${playbook}:overflow`;

export interface Admission {
  /** Candidates that may start (or already run): deliver as usual. */
  admitted: string[];
  /** Candidates over the cap: their alerts go to the overflow incident. */
  overflow: string[];
  /** Open incidents of the playbook once the admitted ones started. */
  open: number;
}

interface PlaybookLedger {
  /** Running incident ids as visibility listed them at `fetchedAt`. */
  visible: Set<string>;
  fetchedAt: number;
  /** Incidents this process admitted, with when: counted until visibility surely lists them. */
  started: Map<string, number>;
  /** Decisions for one playbook run one at a time. */
  queue: Promise<unknown>;
}

export interface OpenIncidentsOptions {
  client: Client;
  taskQueue: string;
  cap: number;
  /** Re-read visibility at most this often per playbook while at the cap (default 1 s). */
  refreshMs?: number;
  /** Longest a started incident is counted from the ledger before visibility must list it (default 30 s). */
  graceMs?: number;
  /** Deadline of one visibility read (default 3 s): with Temporal unreachable, the webhook must
   * still answer 503 well inside Alertmanager's 10 s timeout. */
  deadlineMs?: number;
  now?: () => number;
}

const quoted = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export class OpenIncidents {
  private readonly ledgers = new Map<string, PlaybookLedger>();
  private readonly now: () => number;

  constructor(private readonly o: OpenIncidentsOptions) {
    this.now = o.now ?? Date.now;
  }

  get cap(): number {
    return this.o.cap;
  }

  /** Which of `candidates` (workflow ids of firing alert groups of `playbook`) may start. */
  admit(playbook: string, candidates: string[]): Promise<Admission> {
    const l = this.ledger(playbook);
    const decision = l.queue.then(() => this.decide(playbook, l, candidates));
    l.queue = decision.catch(() => undefined);
    return decision;
  }

  /** A start failed (Temporal unreachable): its slot is free again. */
  release(playbook: string, workflowId: string): void {
    this.ledgers.get(playbook)?.started.delete(workflowId);
  }

  /** Running incident workflows of the playbook (the overflow incident is not one of them), and
   * which of `recent` (ids started by this process) visibility lists at all, running or closed. */
  async listRunning(playbook: string, recent: { ids: Set<string>; since: number } = { ids: new Set(), since: 0 }): Promise<{ running: Set<string>; seen: Set<string> }> {
    const running = `ExecutionStatus = 'Running'`;
    const which = recent.ids.size > 0 ? `(${running} OR StartTime >= ${quoted(new Date(recent.since - 1_000).toISOString())})` : running;
    const query = [
      `WorkflowType = ${quoted(INCIDENT_WORKFLOW_TYPE)}`,
      `TaskQueue = ${quoted(this.o.taskQueue)}`,
      `WorkflowId STARTS_WITH ${quoted(`incident:${playbook}:`)}`,
      which,
    ].join(' AND ');
    const out = { running: new Set<string>(), seen: new Set<string>() };
    await this.o.client.withDeadline(Date.now() + (this.o.deadlineMs ?? 3_000), async () => {
      for await (const wf of this.o.client.workflow.list({ query })) {
        if (wf.status.name === 'RUNNING') out.running.add(wf.workflowId);
        if (recent.ids.has(wf.workflowId)) out.seen.add(wf.workflowId);
      }
    });
    out.running.delete(overflowWorkflowId(playbook));
    return out;
  }

  private ledger(playbook: string): PlaybookLedger {
    let l = this.ledgers.get(playbook);
    if (!l) {
      l = { visible: new Set(), fetchedAt: -Infinity, started: new Map(), queue: Promise.resolve() };
      this.ledgers.set(playbook, l);
    }
    return l;
  }

  private async refresh(playbook: string, l: PlaybookLedger): Promise<void> {
    const at = this.now();
    const since = Math.min(...l.started.values());
    const { running, seen } = await this.listRunning(playbook, { ids: new Set(l.started.keys()), since });
    l.visible = running;
    l.fetchedAt = at;
    // Once visibility lists an incident this process started (running or already closed), it
    // counts from there; the ledger only covers visibility's lag (and at most graceMs of it).
    const grace = this.o.graceMs ?? 30_000;
    for (const [id, startedAt] of l.started) if (seen.has(id) || startedAt < at - grace) l.started.delete(id);
  }

  private async decide(playbook: string, l: PlaybookLedger, candidates: string[]): Promise<Admission> {
    const open = (): Set<string> => new Set([...l.visible, ...l.started.keys()]);
    // Re-read visibility for a new group (incidents may have ended, other replicas may have
    // started some), at most every refreshMs: during a flood, one list call per second per
    // playbook. Between reads the ledger keeps this process's own starts counted.
    const known = open();
    const stale = this.now() - l.fetchedAt >= (this.o.refreshMs ?? 1_000);
    if (stale && candidates.some((id) => !known.has(id))) await this.refresh(playbook, l);
    const current = open();
    const admitted: string[] = [];
    const overflow: string[] = [];
    for (const id of candidates) {
      if (current.has(id)) admitted.push(id);
      else if (current.size < this.o.cap) {
        current.add(id);
        l.started.set(id, this.now());
        admitted.push(id);
      } else overflow.push(id);
    }
    return { admitted, overflow, open: current.size };
  }
}
