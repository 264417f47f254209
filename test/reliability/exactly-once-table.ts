// The reliability suite's one table: actuator × crash point → sent, applied, lost. Each crash test
// file (its own vitest process) writes its rows to test-results/exactly-once/<file>.json and then
// rewrites test-results/exactly-once.md from every such file, so the last file to finish leaves
// the whole table; each prints the table as it stands.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/paths.js';

export interface ExactlyOnceRow {
  actuator: string;
  point: string;
  /** Effect requests that reached the proxy in front of the target (held ones included). */
  sent: number;
  /** Applications counted at the target. */
  applied: number;
  /** Requests of the retried activity at the target after the kill. */
  resent: number;
  /** The activity's last attempt (2+ = it ran again after the kill). */
  attempts: number;
  /** The incident's final status, and whether it was the expected one. */
  status: string;
  lost: number;
}

const DIR = join(ROOT, 'test-results');
const PARTS = join(DIR, 'exactly-once');
export const TABLE_PATH = join(DIR, 'exactly-once.md');

export function renderTable(rows: ExactlyOnceRow[]): string {
  const head = '| actuator | crash point | sent | applied | re-sent after kill | attempts | incident | lost |\n| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |';
  const body = rows.map((r) => `| ${r.actuator} | ${r.point} | ${r.sent} | ${r.applied} | ${r.resent} | ${r.attempts} | ${r.status} | ${r.lost} |`);
  const total = rows.reduce((t, r) => ({ sent: t.sent + r.sent, applied: t.applied + r.applied, lost: t.lost + r.lost }), { sent: 0, applied: 0, lost: 0 });
  const twice = rows.filter((r) => r.applied > 1).length;
  return [
    '# Exactly once, per actuator and crash point',
    '',
    'Each row: one incident whose worker process was killed with SIGKILL at that point of its action',
    '(before-target: the request was sent but held before the target; answer-held: the target applied',
    'it, its answer was held; answer-delivered: killed as the answer reached the worker, before the',
    'activity completed — attempts 1 means the completion won the race). A new worker process took',
    'over. sent = effect requests that reached the proxy in front of the target; applied = counted at',
    'the target; lost = incident not ending as expected. PagerDuty: applied = alerts opened, resolves',
    'applied; a trigger re-sent with the same dedup_key updates the open alert (PagerDuty pages once),',
    'a resolve re-sent after it landed is dropped. HTTP: from kill9.test.ts, counted per Idempotency-Key.',
    'Slack (slack-kill9.test.ts): the root or approval message\'s chat.postMessage held before the stand-in',
    '(sent), its answer held (landed), or answered with the publish\'s next call held; applied = messages',
    'at the stand-in, re-sent = its posts after the kill plus the lookups for it (a root\'s lookup,',
    'conversations.history, names no incident: every one in the channel after the kill counts).',
    '',
    head,
    ...body,
    '',
    `${rows.length} crash points: ${total.sent} sent, ${total.applied} applied, ${twice} applied more than once, ${total.lost} lost.`,
    '',
  ].join('\n');
}

/** Records this file's rows, rewrites the merged table, and returns it. */
export function recordRows(part: string, rows: ExactlyOnceRow[]): string {
  mkdirSync(PARTS, { recursive: true });
  writeFileSync(join(PARTS, `${part}.json`), JSON.stringify(rows, null, 2));
  const all = readdirSync(PARTS)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => JSON.parse(readFileSync(join(PARTS, f), 'utf8')) as ExactlyOnceRow[]);
  const table = renderTable(all);
  writeFileSync(TABLE_PATH, table);
  return table;
}
