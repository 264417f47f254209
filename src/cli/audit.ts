// `medic audit verify` and `medic audit export`: read the audit log's SQLite file directly
// (read-only), found from --file, the config's audit.path (MEDIC_AUDIT_PATH / MEDIC_CONFIG) or
// the embedded demo's .medic/cli.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditLog, openAuditDb, toCsv, toJsonl } from '../audit/log.js';
import { loadConfig } from '../config.js';

export class AuditUsageError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (line: string) => void;
}

function auditPath(file: string | undefined): string {
  if (file) return file;
  const configured = loadConfig().audit?.path;
  if (configured) return configured;
  try {
    const saved = JSON.parse(readFileSync(join(process.cwd(), '.medic', 'cli.json'), 'utf8')) as { audit?: string };
    if (saved.audit) return saved.audit;
  } catch {
    // no demo connection file
  }
  throw new AuditUsageError('where is the audit log? pass --file, or set MEDIC_AUDIT_PATH (config audit.path)');
}

export function auditCommand(args: string[], values: { file?: string; since?: string; format?: string; json?: boolean }, io: Io): number {
  const [sub] = args;
  if (sub !== 'verify' && sub !== 'export') throw new AuditUsageError('usage: medic audit verify | medic audit export [--since ISO] [--format jsonl|csv]');
  const path = auditPath(values.file);
  if (!existsSync(path)) throw new AuditUsageError(`no audit log at ${path}`);
  const db = openAuditDb(path, { readonly: true });
  try {
    const log = auditLog(db);
    if (sub === 'verify') {
      const r = log.verify();
      if (values.json) io.out(`${JSON.stringify(r, null, 2)}\n`);
      else if (r.ok) io.out(`audit log OK: ${r.entries} entries, hash chain intact (head ${r.head})\n`);
      else {
        const b = r.firstBad;
        const where = b.incidentId ? `incident ${b.incidentId} seq ${b.seq}` : 'outside incidents';
        io.out(`audit log TAMPERED: ${r.problem}\n  first bad entry: #${b.id} (${b.at}, ${where}): ${b.what}\n`);
      }
      return r.ok ? 0 : 1;
    }
    const format = values.format ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') throw new AuditUsageError('--format must be jsonl or csv');
    let since: string | undefined;
    if (values.since !== undefined) {
      const t = Date.parse(values.since);
      if (Number.isNaN(t)) throw new AuditUsageError(`--since must be an ISO date/time, got "${values.since}"`);
      since = new Date(t).toISOString();
    }
    const entries = log.entries(since ? { since } : {});
    io.out(format === 'csv' ? toCsv(entries) : toJsonl(entries));
    const check = log.verify();
    if (!check.ok) io.err(`warning: the audit log does not verify (${check.problem}); run medic audit verify`);
    return 0;
  } finally {
    db.close();
  }
}
