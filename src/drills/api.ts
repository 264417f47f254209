// Drills through Temporal, for the operator API: start a drill (refused at once, with the reason,
// when its target is not drillable or the kill switch is on), follow it, and keep Temporal
// Schedules for recurring game days.
import { randomUUID } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Playbook } from '../playbooks/schema.js';
import { queryChecked, governorStateQuery, governorWorkflowId } from '../../workflows/contracts.js';
import { DRILL_WORKFLOW_TYPE, drillPhaseQuery, drillScheduleId, type DrillInput, type DrillPhase, type DrillReport } from '../../workflows/contracts-drill.js';
import type { DrillScenario, DrillTarget } from './schema.js';
import { refuseTarget } from './targets.js';

export class DrillRefusedError extends Error {}
export class DrillNotFoundError extends Error {}

export interface DrillsDeps {
  client: Client;
  taskQueue: string;
  scenarios: () => DrillScenario[];
  targets: Record<string, DrillTarget>;
  playbooks: () => Playbook[];
}

export interface DrillRun {
  workflowId: string;
  phase: DrillPhase;
  report?: DrillReport;
}

export interface DrillSchedule {
  scenario: string;
  scheduleId: string;
  cron: string;
  note: string;
  paused: boolean;
  nextRuns: string[];
}

export function drillsApi(d: DrillsDeps) {
  const scenario = (name: string): DrillScenario => {
    const sc = d.scenarios().find((s) => s.name === name);
    if (sc) return sc;
    const known = d.scenarios().map((s) => s.name);
    throw new DrillNotFoundError(`no drill "${name}"${known.length ? `; available: ${known.join(', ')}` : ' (no drill scenarios configured: drills.paths in medic\'s config)'}`);
  };
  const inputOf = (sc: DrillScenario, by: string): DrillInput => {
    const pb = d.playbooks().find((p) => p.name === sc.expect.playbook);
    if (!pb) throw new DrillRefusedError(`drill ${sc.name}: expects playbook "${sc.expect.playbook}", which medic has not loaded`);
    return { scenario: sc, maintenanceWindows: pb.maintenanceWindows, requestedBy: by };
  };
  /** The checks the drill workflow repeats, up front, so the caller hears why at once. */
  const precheck = async (sc: DrillScenario): Promise<void> => {
    const why = refuseTarget(d.targets, sc);
    if (why) throw new DrillRefusedError(why);
    try {
      const gov = await queryChecked(d.client.workflow.getHandle(governorWorkflowId(d.taskQueue)), governorStateQuery);
      if (gov.pause.paused) throw new DrillRefusedError(`drill ${sc.name}: the kill switch is on (paused by ${gov.pause.by ?? '?'}); no drills while automation is paused`);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  };

  return {
    scenario,
    async start(name: string, by: string): Promise<{ workflowId: string }> {
      const sc = scenario(name);
      const input = inputOf(sc, by);
      await precheck(sc);
      const workflowId = `drill:${sc.name}:${randomUUID().slice(0, 8)}`;
      await d.client.workflow.start(DRILL_WORKFLOW_TYPE, { workflowId, taskQueue: d.taskQueue, args: [input] });
      return { workflowId };
    },
    async run(workflowId: string): Promise<DrillRun> {
      if (!workflowId.startsWith('drill:')) throw new DrillNotFoundError(`${workflowId} is not a drill`);
      const handle = d.client.workflow.getHandle(workflowId);
      let status: string;
      try {
        status = (await handle.describe()).status.name;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new DrillNotFoundError(`no drill run ${workflowId}`);
        throw err;
      }
      if (status === 'COMPLETED') return { workflowId, phase: 'done', report: (await handle.result()) as DrillReport };
      if (status !== 'RUNNING') return { workflowId, phase: 'done' };
      return { workflowId, phase: await queryChecked(handle, drillPhaseQuery) };
    },
    /** Creates the scenario's schedule, or brings it up to date. */
    async schedule(name: string, cron: string, by: string): Promise<{ scheduleId: string; created: boolean }> {
      const sc = scenario(name);
      const input = inputOf(sc, `schedule (set by ${by})`);
      const why = refuseTarget(d.targets, sc);
      if (why) throw new DrillRefusedError(why);
      const scheduleId = drillScheduleId(d.taskQueue, sc.name);
      const spec = { cronExpressions: [cron] };
      const action = { type: 'startWorkflow' as const, workflowType: DRILL_WORKFLOW_TYPE, taskQueue: d.taskQueue, workflowId: `drill:${sc.name}:scheduled`, args: [input] };
      // Game days never overlap, and a missed one is not made up later.
      const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' } as const;
      const note = `cron '${cron}', set by ${by}`;
      try {
        await d.client.schedule.create({ scheduleId, spec, action, policies, state: { note }, memo: { drill: sc.name } });
        return { scheduleId, created: true };
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        await d.client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, ...policies }, state: { ...prev.state, note } }));
        return { scheduleId, created: false };
      }
    },
    async schedules(): Promise<DrillSchedule[]> {
      const prefix = drillScheduleId(d.taskQueue, '');
      const out: DrillSchedule[] = [];
      for await (const s of d.client.schedule.list()) {
        if (!s.scheduleId.startsWith(prefix)) continue;
        const desc = await d.client.schedule.getHandle(s.scheduleId).describe();
        out.push({
          scenario: s.scheduleId.slice(prefix.length),
          scheduleId: s.scheduleId,
          cron: /^cron '(.*)',/.exec(desc.state.note ?? '')?.[1] ?? '',
          note: desc.state.note ?? '',
          paused: desc.state.paused,
          nextRuns: desc.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
        });
      }
      return out.sort((a, b) => (a.scenario < b.scenario ? -1 : 1));
    },
  };
}

export type DrillsApi = ReturnType<typeof drillsApi>;
