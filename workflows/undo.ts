// Puts back a change an incident made, on a durable timer (a GitOps owner's sync resumed after
// `resumeAfter`) or when the incident resolves (a traffic shift or circuit breaker reverted when
// the playbook says revertOnResolve). A detached child of the incident (parent close: abandon),
// so the timer survives the incident's end and worker restarts. The activity is idempotent (its
// stamp), so a retried or replayed undo acts once.
import { condition, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { incidentEndedSignal, type UndoInput, type UndoResult } from './contracts-undo.js';

const WEEK_MS = 7 * 24 * 3_600_000;

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 30, nonRetryableErrorTypes: ['KubernetesRejected', 'KubernetesNotFound', 'KubernetesCrdMissing'] },
});

export async function undoWorkflow(input: UndoInput): Promise<UndoResult> {
  let ended: { resolved: boolean } | undefined;
  setHandler(incidentEndedSignal, (e) => void (ended = e));
  const { when } = input.undo;
  if (when === 'resolve') {
    const got = await condition(() => ended !== undefined, input.maxWaitMs ?? WEEK_MS);
    if (!got) return { undone: false, summary: `${input.incidentId} did not end within ${Math.round((input.maxWaitMs ?? WEEK_MS) / 3_600_000)}h: the change stays` };
    if (!ended!.resolved) return { undone: false, summary: `${input.incidentId} escalated: the change stays for the people handling it` };
  } else {
    await sleep(when.afterMs);
  }
  const r = await acts.k8sUndo({ undo: input.undo.spec, idempotencyKey: `${input.key}:undo`, dryRun: false, timeoutMs: 30_000 });
  return { undone: !r.alreadyDone && r.changes.length > 0, summary: r.summary };
}
