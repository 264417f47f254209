// Reads ansible-playbook's JSON stdout callback (ansible.posix.json) into per-host results: each
// host's outcome from the run's `stats`, the tasks that changed (would change, in --check) from
// the task results, and why a host failed or was unreachable. Everything that came from a host is
// redacted and capped before it may reach the timeline (Slack, audit log, workflow history).
import { z } from 'zod';
import type { HostResult } from '../workflows/contracts-timeline.js';
import { capOutput } from './redact.js';

/** The fact a playbook sets (ansible/medic-marker-check.yml) on a host whose marker was there. */
export const ALREADY_APPLIED_FACT = 'medic_already_applied';
/** medic's own marker tasks are named "medic: …"; they are not listed as changes. */
const MEDIC_TASK = /^medic: /;
/** How a command/shell task answers in --check (it is skipped): it would change something. */
const WOULD_RUN = /would have run if not in check mode/i;

const TaskResult = z.looseObject({
  changed: z.boolean().optional(),
  failed: z.boolean().optional(),
  unreachable: z.boolean().optional(),
  skipped: z.boolean().optional(),
  msg: z.unknown().optional(),
  stderr: z.unknown().optional(),
  ansible_facts: z.record(z.string(), z.unknown()).optional(),
  diff: z.unknown().optional(),
});
const Stats = z.looseObject({ changed: z.number().default(0), failures: z.number().default(0), unreachable: z.number().default(0), ok: z.number().default(0) });
export const JsonCallbackSchema = z.looseObject({
  plays: z.array(z.looseObject({ tasks: z.array(z.looseObject({ task: z.looseObject({ name: z.string().default('') }), hosts: z.record(z.string(), TaskResult) })).default([]) })).default([]),
  stats: z.record(z.string(), Stats).default({}),
});
export type JsonCallback = z.infer<typeof JsonCallbackSchema>;

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));

/** A task's --diff as text: `--- before` / `+++ after` headers and the contents. */
function diffText(d: unknown): string {
  const parts = Array.isArray(d) ? d : d ? [d] : [];
  return parts
    .map((p: Record<string, unknown>) => {
      if (typeof p !== 'object' || p === null) return '';
      if (typeof p.prepared === 'string') return p.prepared;
      const head = `--- ${text(p.before_header ?? 'before')}\n+++ ${text(p.after_header ?? 'after')}\n`;
      return `${head}${text(p.before) ? `-${text(p.before).replace(/\n/g, '\n-')}\n` : ''}${text(p.after) ? `+${text(p.after).replace(/\n/g, '\n+')}\n` : ''}`;
    })
    .join('');
}

/** Per-host results of one run, in the order `hosts` gives (hosts the run never reached are unreachable). */
export function hostResults(report: JsonCallback, hosts: string[], cap = { message: 400, diff: 1_024 }): HostResult[] {
  return hosts.map((host) => {
    const stats = report.stats[host];
    const changedTasks: string[] = [];
    const diffs: string[] = [];
    let failed: { task: string; message: string } | undefined;
    let already = false;
    for (const play of report.plays) {
      for (const t of play.tasks) {
        const r = t.hosts[host];
        if (!r) continue;
        const name = t.task.name || 'unnamed task';
        if (r.ansible_facts?.[ALREADY_APPLIED_FACT] === true) already = true;
        if ((r.changed || (r.skipped && WOULD_RUN.test(text(r.msg)))) && !MEDIC_TASK.test(name)) {
          changedTasks.push(name);
          if (r.diff !== undefined) diffs.push(diffText(r.diff));
        }
        if ((r.failed || r.unreachable) && !failed) failed = { task: name, message: text(r.msg) || text(r.stderr) };
      }
    }
    const status: HostResult['status'] = !stats
      ? 'unreachable'
      : stats.unreachable > 0
        ? 'unreachable'
        : stats.failures > 0
          ? 'failed'
          : already
            ? 'already-applied'
            : changedTasks.length > 0
              ? 'changed'
              : 'ok';
    const bad = status === 'failed' || status === 'unreachable';
    const message = bad ? capOutput(failed?.message || (stats ? 'failed' : 'the run never reached this host'), cap.message) : undefined;
    const diff = diffs.join('').trim();
    return {
      host,
      status,
      changedTasks,
      ...(bad && failed ? { failedTask: failed.task } : {}),
      ...(message ? { message } : {}),
      ...(diff ? { diff: capOutput(diff, cap.diff) } : {}),
    };
  });
}

/** Parses the callback's stdout (anything before the JSON document, e.g. a warning, is skipped). */
export function parseJsonCallback(stdout: string): JsonCallback | undefined {
  const start = stdout.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed = JsonCallbackSchema.safeParse(JSON.parse(stdout.slice(start)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
