// `medic report`: reads the incident store directly — a SQLite file or a postgres:// URL from
// --store, the config's store (MEDIC_STORE_PATH / MEDIC_STORE_URL / MEDIC_CONFIG) or the embedded
// demo's .medic/store.db.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { DURATION_PATTERN, toMs } from '../playbooks/duration.js';
import { buildDigest } from '../digest/digest.js';
import { formatReport } from '../report/report.js';
import type { StoreConfig } from '../store/config.js';
import { openIncidentStore, type IncidentStore } from '../store/store.js';

export class ReportUsageError extends Error {}

/** The store named by --store (a file or a postgres:// URL), else the configured one, else the demo's. */
export function storeOf(flag: string | undefined): StoreConfig {
  const given = flag ? (/^postgres(ql)?:\/\//.test(flag) ? { url: flag } : { path: flag }) : (loadConfig().store ?? undefined);
  if (given) {
    if (given.path !== undefined && given.url === undefined && !existsSync(given.path)) throw new ReportUsageError(`no incident store at ${given.path}`);
    return given;
  }
  const demo = join(process.cwd(), '.medic', 'store.db');
  if (existsSync(demo)) return { path: demo };
  throw new ReportUsageError('where is the incident store? pass --store (file or postgres:// URL), or set MEDIC_STORE_PATH / MEDIC_STORE_URL');
}

export async function withStore<T>(flag: string | undefined, fn: (store: IncidentStore) => Promise<T>): Promise<T> {
  const store = await openIncidentStore(storeOf(flag));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** `--since` as a duration back from now (7d, 24h) or an ISO date/time; the period ends now. */
export function periodOf(since: string, now: number): { from: number; label: string } {
  if (DURATION_PATTERN.test(since)) return { from: now - toMs(since), label: since };
  const t = Date.parse(since);
  if (Number.isNaN(t) || t >= now) throw new ReportUsageError(`--since must be a duration like 7d or 24h, or a past ISO date/time; got "${since}"`);
  return { from: t, label: `${((now - t) / 86_400_000).toFixed(1)}d` };
}

export interface ReportFlags {
  store?: string;
  since?: string;
  json?: boolean;
  /** The weekly digest as posted to Slack (period: digest.period, else 7d). */
  weekly?: boolean;
  /** Prometheus for SLO compliance; default prometheus.url. */
  prometheus?: string;
}

export async function reportCommand(values: ReportFlags, io: { out: (text: string) => void }, now = Date.now()): Promise<number> {
  const config = loadConfig();
  const { from, label } = periodOf(values.since ?? (values.weekly ? config.digest?.period : undefined) ?? '7d', now);
  const prometheusUrl = values.prometheus ?? config.prometheus?.url;
  return withStore(values.store, async (store) => {
    const digest = await buildDigest({ store, slos: config.slos, prometheusUrl }, from, now);
    const human = values.weekly ? digest.text : `${formatReport(digest.report, label)}${digest.sloProblem ? `\n\nSLO compliance: ${digest.sloProblem}` : ''}`;
    io.out(`${values.json ? JSON.stringify(digest.report, null, 2) : human}\n`);
    return 0;
  });
}
