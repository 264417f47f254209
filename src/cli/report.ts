// `medic report`: reads the incident store (SQLite) directly, found from --store, the config's
// store.path (MEDIC_STORE_PATH / MEDIC_CONFIG) or the embedded demo's .medic/store.db.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { DURATION_PATTERN, toMs } from '../playbooks/duration.js';
import { buildReport, formatReport } from '../report/report.js';
import { incidentStore, openStore } from '../store/store.js';

export class ReportUsageError extends Error {}

function storePath(flag: string | undefined): string {
  if (flag) return flag;
  const configured = loadConfig().store?.path;
  if (configured) return configured;
  const demo = join(process.cwd(), '.medic', 'store.db');
  if (existsSync(demo)) return demo;
  throw new ReportUsageError('where is the incident store? pass --store, or set MEDIC_STORE_PATH (config store.path)');
}

/** `--since` as a duration back from now (7d, 24h) or an ISO date/time; the period ends now. */
export function periodOf(since: string, now: number): { from: number; label: string } {
  if (DURATION_PATTERN.test(since)) return { from: now - toMs(since), label: since };
  const t = Date.parse(since);
  if (Number.isNaN(t) || t >= now) throw new ReportUsageError(`--since must be a duration like 7d or 24h, or a past ISO date/time; got "${since}"`);
  return { from: t, label: `${((now - t) / 86_400_000).toFixed(1)}d` };
}

export function reportCommand(values: { store?: string; since?: string; json?: boolean }, io: { out: (text: string) => void }, now = Date.now()): number {
  const path = storePath(values.store);
  if (!existsSync(path)) throw new ReportUsageError(`no incident store at ${path}`);
  const { from, label } = periodOf(values.since ?? '7d', now);
  const db = openStore(path);
  try {
    const store = incidentStore(db);
    const report = buildReport(store.openedBetween(from, now), store.openedBetween(from - (now - from), from), from, now);
    io.out(`${values.json ? JSON.stringify(report, null, 2) : formatReport(report, label)}\n`);
    return 0;
  } finally {
    db.close();
  }
}
