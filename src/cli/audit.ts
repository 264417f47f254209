// `medic audit verify | export | public-key`: read the audit log's SQLite file directly
// (read-only), found from --file, the config's audit.path (MEDIC_AUDIT_PATH / MEDIC_CONFIG) or
// the embedded demo's .medic/cli.json. verify checks the SHA-256 chain; with the audit key
// (--key-file, MEDIC_AUDIT_KEY_FILE / MEDIC_AUDIT_KEY) every MAC; with --checkpoint (a file or
// URL of exported checkpoints) the signed heads, verified with --public-key or the key.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointsError, loadCheckpoints } from '../audit/checkpoint.js';
import { AuditKeyError, checkpointVerifierFrom, loadAuditKey, readAuditKeyFile, type AuditKey, type CheckpointVerifier } from '../audit/key.js';
import { auditLog, openAuditDb, type VerifyResult } from '../audit/log.js';
import { toCsv, toJsonl } from '../audit/export.js';
import { loadConfig, type Config } from '../config.js';

export class AuditUsageError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (line: string) => void;
}

export interface AuditValues {
  file?: string | undefined;
  since?: string | undefined;
  format?: string | undefined;
  json?: boolean | undefined;
  checkpoint?: string | undefined;
  'public-key'?: string | undefined;
  'key-file'?: string | undefined;
}

const USAGE = 'usage: medic audit verify [--checkpoint FILE|URL] [--public-key FILE] [--key-file FILE] | medic audit export [--since ISO] [--format jsonl|csv] | medic audit public-key';

interface Located {
  path?: string;
  keyFile?: string;
  key?: string;
  checkpoints?: string;
}

/** What the demo's .medic/cli.json says about its audit log. */
function demoConnection(): Located {
  try {
    const saved = JSON.parse(readFileSync(join(process.cwd(), '.medic', 'cli.json'), 'utf8')) as { audit?: string; auditKeyFile?: string; auditCheckpoints?: string };
    return { ...(saved.audit ? { path: saved.audit } : {}), ...(saved.auditKeyFile ? { keyFile: saved.auditKeyFile } : {}), ...(saved.auditCheckpoints ? { checkpoints: saved.auditCheckpoints } : {}) };
  } catch {
    return {}; // no demo connection file
  }
}

/** The log, key and checkpoints from the config when --file does not say (else only env). */
const envKey = (): Located => ({
  ...(process.env.MEDIC_AUDIT_KEY_FILE ? { keyFile: process.env.MEDIC_AUDIT_KEY_FILE } : {}),
  ...(process.env.MEDIC_AUDIT_KEY ? { key: process.env.MEDIC_AUDIT_KEY } : {}),
});

function locate(values: AuditValues): Located {
  const env = envKey();
  if (values.file) return { path: values.file, ...env };
  const audit: Config['audit'] = loadConfig().audit;
  if (audit) return { path: audit.path, ...(audit.keyFile ? { keyFile: audit.keyFile } : {}), ...(audit.key ? { key: audit.key } : {}), ...(audit.checkpoints.file ? { checkpoints: audit.checkpoints.file } : {}) };
  const demo = demoConnection();
  if (demo.path) return { ...demo, ...env };
  throw new AuditUsageError('where is the audit log? pass --file, or set MEDIC_AUDIT_PATH (config audit.path)');
}

function keyOf(values: AuditValues, where: Located): AuditKey | undefined {
  if (values['key-file']) return readAuditKeyFile(values['key-file'], '--key-file');
  return loadAuditKey({ key: where.key, keyFile: where.keyFile });
}

function describeOk(r: Extract<VerifyResult, { ok: true }>, checkpointSource: string | undefined): string {
  const lines = [`audit log OK: ${r.entries} entries, hash chain intact (head ${r.head})`];
  if (r.macs === 'unkeyed') lines.push('  not keyed: anyone who can write the file could rewrite this chain consistently (configure audit.keyFile)');
  else {
    const before = r.keyedFrom! > 1 ? `; entries #1–#${r.keyedFrom! - 1} predate keying (hash chain only)` : '';
    lines.push(
      r.macs === 'checked'
        ? `  HMAC-keyed from #${r.keyedFrom} (key ${r.keyId}): every MAC verified${before}`
        : `  HMAC-keyed from #${r.keyedFrom} (key ${r.keyId}): MACs not checked — give the audit key (--key-file or MEDIC_AUDIT_KEY_FILE)${before}`,
    );
  }
  if (checkpointSource === undefined) lines.push('  no checkpoints checked: pass --checkpoint FILE|URL to detect a rewritten or truncated log');
  else if (r.checkpoints.last) lines.push(`  matches ${r.checkpoints.matched} signed checkpoint${r.checkpoints.matched === 1 ? '' : 's'} from ${checkpointSource} (last: #${r.checkpoints.last.seq} at ${r.checkpoints.last.at})`);
  else lines.push(`  no checkpoints in ${checkpointSource} yet`);
  return `${lines.join('\n')}\n`;
}

function describeBad(r: Extract<VerifyResult, { ok: false }>): string {
  const b = r.firstBad;
  if (!b) return `audit log TAMPERED: ${r.problem}\n`;
  const where = b.incidentId ? `incident ${b.incidentId} seq ${b.seq}` : 'outside incidents';
  return `audit log TAMPERED: ${r.problem}\n  first bad entry: #${b.id} (${b.at}, ${where}): ${b.what}\n`;
}

async function verify(values: AuditValues, where: Located, io: Io): Promise<number> {
  const key = keyOf(values, where);
  // --checkpoint wins; else the configured (or demo) checkpoint file, when it exists.
  const source = values.checkpoint ?? (where.checkpoints && existsSync(where.checkpoints) ? where.checkpoints : undefined);
  let checkpoints: { list: Awaited<ReturnType<typeof loadCheckpoints>>; verifier: CheckpointVerifier } | undefined;
  if (source !== undefined) {
    const pem = values['public-key'];
    const verifier = pem ? checkpointVerifierFrom(readFileSync(pem, 'utf8'), `--public-key ${pem}`) : key;
    if (!verifier) throw new AuditUsageError('--checkpoint needs the public key that signed the checkpoints (--public-key FILE, from medic audit public-key) or the audit key (MEDIC_AUDIT_KEY_FILE)');
    try {
      checkpoints = { list: await loadCheckpoints(source), verifier };
    } catch (err) {
      if (!(err instanceof CheckpointsError)) throw err;
      io.out(`audit log NOT VERIFIED: ${err.message}\n`);
      return 1;
    }
  }
  const db = openAuditDb(where.path!, { readonly: true });
  try {
    const r = auditLog(db).verify({ key, checkpoints });
    io.out(values.json ? `${JSON.stringify(r, null, 2)}\n` : r.ok ? describeOk(r, source) : describeBad(r));
    return r.ok ? 0 : 1;
  } finally {
    db.close();
  }
}

function exportLog(values: AuditValues, path: string, io: Io): number {
  const format = values.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') throw new AuditUsageError('--format must be jsonl or csv');
  let since: string | undefined;
  if (values.since !== undefined) {
    const t = Date.parse(values.since);
    if (Number.isNaN(t)) throw new AuditUsageError(`--since must be an ISO date/time, got "${values.since}"`);
    since = new Date(t).toISOString();
  }
  const db = openAuditDb(path, { readonly: true });
  try {
    const log = auditLog(db);
    const entries = log.entries(since ? { since } : {});
    io.out(format === 'csv' ? toCsv(entries) : toJsonl(entries));
    const check = log.verify();
    if (!check.ok) io.err(`warning: the audit log does not verify (${check.problem}); run medic audit verify`);
    return 0;
  } finally {
    db.close();
  }
}

export async function auditCommand(args: string[], values: AuditValues, io: Io): Promise<number> {
  const [sub] = args;
  if (sub !== 'verify' && sub !== 'export' && sub !== 'public-key') throw new AuditUsageError(USAGE);
  try {
    if (sub === 'public-key') {
      const env = envKey();
      const key = keyOf(values, values['key-file'] || env.key || env.keyFile ? env : locate(values));
      if (!key) throw new AuditUsageError('no audit key: pass --key-file, or set MEDIC_AUDIT_KEY_FILE (config audit.keyFile)');
      io.out(key.publicKeyPem);
      return 0;
    }
    const where = locate(values);
    if (!existsSync(where.path!)) throw new AuditUsageError(`no audit log at ${where.path}`);
    return sub === 'verify' ? await verify(values, where, io) : exportLog(values, where.path!, io);
  } catch (err) {
    if (err instanceof AuditKeyError) throw new AuditUsageError(err.message);
    throw err;
  }
}
