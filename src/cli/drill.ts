// `medic drill <scenario>` (start it, follow it, print the report; exit 1 unless it passed),
// `medic drill schedule <scenario> --cron '…'` and `medic drill schedules`.
import type { DrillRun, DrillSchedule } from '../drills/api.js';
import { formatDrillReport } from '../drills/report.js';

export type Call = <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<T>;

export class DrillUsageError extends Error {}

export async function drillCommand(
  args: string[],
  flags: { cron?: string; json?: boolean },
  call: Call,
  out: (s: string) => void,
  o: { pollMs?: number; timeoutMs?: number } = {},
): Promise<number> {
  const [first, second] = args;
  if (!first) throw new DrillUsageError("usage: medic drill <scenario> | medic drill schedule <scenario> --cron '0 10 * * 3' | medic drill schedules");
  if (first === 'schedules') {
    const r = await call<{ schedules: DrillSchedule[] }>('GET', '/api/drills/schedules');
    if (flags.json) out(JSON.stringify(r, null, 2));
    else if (r.schedules.length === 0) out('no drill schedules');
    else for (const s of r.schedules) out(`${s.scenario}  cron '${s.cron}'${s.paused ? ' (paused)' : ''}  next: ${s.nextRuns[0] ?? '—'}  [${s.scheduleId}]`);
    return 0;
  }
  if (first === 'schedule') {
    if (!second || !flags.cron) throw new DrillUsageError("usage: medic drill schedule <scenario> --cron '0 10 * * 3'");
    const r = await call<{ scheduleId: string; created: boolean }>('POST', `/api/drills/${encodeURIComponent(second)}/schedule`, { cron: flags.cron });
    out(flags.json ? JSON.stringify(r, null, 2) : `schedule ${r.scheduleId} ${r.created ? 'created' : 'updated'}: drill ${second} at cron '${flags.cron}'`);
    return 0;
  }
  const { workflowId } = await call<{ workflowId: string }>('POST', `/api/drills/${encodeURIComponent(first)}`);
  if (!flags.json) out(`drill ${first} started (${workflowId}); watching…`);
  const deadline = Date.now() + (o.timeoutMs ?? 30 * 60_000);
  let phase = '';
  for (;;) {
    const run = await call<DrillRun>('GET', `/api/drills/runs/${encodeURIComponent(workflowId)}`);
    if (run.phase !== phase && !flags.json && run.phase !== 'done') out(`  … ${run.phase}`);
    phase = run.phase;
    if (run.phase === 'done') {
      if (!run.report) throw new Error(`drill ${workflowId} ended without a report (failed or terminated)`);
      out(flags.json ? JSON.stringify(run.report, null, 2) : formatDrillReport(run.report));
      return run.report.passed ? 0 : 1;
    }
    if (Date.now() > deadline) throw new Error(`drill ${workflowId} still ${phase}; it goes on in Temporal (workflow ${workflowId})`);
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1_000));
  }
}
