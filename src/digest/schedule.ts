// The weekly digest's Temporal Schedule, created at worker start or brought up to date when it
// already exists (another worker, an earlier start), so the config is the single source of truth.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleHandle } from '@temporalio/client';
import { toMs } from '../playbooks/duration.js';
import { DIGEST_WORKFLOW, type DigestInput } from '../../workflows/contracts-digest.js';
import type { DigestConfig } from './config.js';

export const digestScheduleId = (taskQueue: string): string => `medic-digest/${taskQueue}`;

export async function ensureDigestSchedule(client: Client, taskQueue: string, digest: DigestConfig): Promise<{ handle: ScheduleHandle; created: boolean }> {
  const scheduleId = digestScheduleId(taskQueue);
  const input: DigestInput = { periodMs: toMs(digest.period), ...(digest.channel ? { channel: digest.channel } : {}) };
  const spec = { cronExpressions: [digest.cron], timezone: digest.timeZone };
  const action = { type: 'startWorkflow' as const, workflowType: DIGEST_WORKFLOW, taskQueue, workflowId: `digest/${taskQueue}`, args: [input] };
  // A missed run (worker or server down) is posted late for up to a day, never twice.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' } as const;
  try {
    const handle = await client.schedule.create({ scheduleId, spec, action, policies, state: { note: 'medic weekly digest' } });
    return { handle, created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const handle = client.schedule.getHandle(scheduleId);
    await handle.update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, ...policies } }));
    return { handle, created: false };
  }
}
