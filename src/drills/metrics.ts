// Drill results on /metrics, read at scrape time from the drill workflows' memos in Temporal's
// visibility (the durable record of every drill), so server and worker share no state.
import type { Client } from '@temporalio/client';
import { Counter, Gauge, type Registry } from 'prom-client';
import { DRILL_WORKFLOW_TYPE } from '../../workflows/contracts-drill.js';

interface DrillMemo {
  scenario: string;
  passed: boolean;
  refused: boolean;
  ttdSeconds?: number;
  mttrSeconds?: number;
  overheadSeconds?: number;
}

/** Completed drills on this task queue, oldest first (bounded: the last `limit`). */
export async function drillResults(client: Client, taskQueue: string, limit = 500): Promise<(DrillMemo & { closedAt: number })[]> {
  const out: (DrillMemo & { closedAt: number })[] = [];
  const query = `WorkflowType = '${DRILL_WORKFLOW_TYPE}' AND ExecutionStatus = 'Completed' AND TaskQueue = '${taskQueue}'`;
  for await (const wf of client.workflow.list({ query })) {
    const memo = (wf.memo as { drill?: DrillMemo } | undefined)?.drill;
    if (memo) out.push({ ...memo, closedAt: wf.closeTime?.getTime() ?? 0 });
    if (out.length >= limit) break;
  }
  return out.sort((a, b) => a.closedAt - b.closedAt);
}

export function registerDrillMetrics(registry: Registry, client: Client, taskQueue: string): void {
  let cached: { at: number; runs: Promise<Awaited<ReturnType<typeof drillResults>>> } | undefined;
  // Several metrics collect per scrape: one visibility listing serves them all.
  const runs = (): Promise<Awaited<ReturnType<typeof drillResults>>> => {
    if (!cached || Date.now() - cached.at > 2_000) cached = { at: Date.now(), runs: drillResults(client, taskQueue).catch(() => []) };
    return cached.runs;
  };
  const last = async (): Promise<Map<string, DrillMemo>> => new Map((await runs()).filter((r) => !r.refused).map((r) => [r.scenario, r]));
  new Counter({
    name: 'medic_drill_runs_total',
    help: 'Chaos drills that finished, by scenario and result (passed, failed, refused)',
    labelNames: ['scenario', 'result'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await runs()) this.inc({ scenario: r.scenario, result: r.refused ? 'refused' : r.passed ? 'passed' : 'failed' });
    },
  });
  new Gauge({
    name: 'medic_drill_last_passed',
    help: '1 when the last drill of a scenario passed, 0 when it failed',
    labelNames: ['scenario'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [scenario, r] of await last()) this.set({ scenario }, r.passed ? 1 : 0);
    },
  });
  new Gauge({
    name: 'medic_drill_last_ttd_seconds',
    help: 'Time to detect in the last drill of a scenario (fault injected → incident opened)',
    labelNames: ['scenario'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [scenario, r] of await last()) if (r.ttdSeconds !== undefined) this.set({ scenario }, r.ttdSeconds);
    },
  });
  new Gauge({
    name: 'medic_drill_last_mttr_seconds',
    help: 'Time to recover in the last drill of a scenario (fault injected → incident resolved)',
    labelNames: ['scenario'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [scenario, r] of await last()) if (r.mttrSeconds !== undefined) this.set({ scenario }, r.mttrSeconds);
    },
  });
  new Gauge({
    name: 'medic_drill_last_overhead_seconds',
    help: "medic's own share of the last heal of a scenario (MTTR overhead: detected → healed minus the action's own time and the verification)",
    labelNames: ['scenario'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [scenario, r] of await last()) if (r.overheadSeconds !== undefined) this.set({ scenario }, r.overheadSeconds);
    },
  });
}
