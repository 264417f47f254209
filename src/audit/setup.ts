// The audit log as the processes open it from the config: the key (from audit.key/keyFile, or
// generated beside the log in demo mode), the keyed log, and — in the worker — the checkpointer
// with its sinks. The key is never logged; only its id appears in messages.
import { join, dirname } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Config } from '../config.js';
import { fileCheckpointSink, slackCheckpointSink, startCheckpointer, webhookCheckpointSink, type Checkpointer, type CheckpointSink, type SlackPoster } from './checkpoint.js';
import { AuditKeyError, generatedAuditKeyFile, loadAuditKey, readAuditKeyFile, type AuditKey } from './key.js';
import { auditLog, openAuditDb, type AuditLog } from './log.js';

type AuditConfig = NonNullable<Config['audit']>;

/** Where demo mode keeps its generated key: beside the log. */
export const demoKeyFile = (auditPath: string): string => join(dirname(auditPath), 'audit.key');

/** The configured audit key; in demo mode without one, a generated key file beside the log. */
export function auditKeyOf(config: Pick<Config, 'mode'> & { audit: AuditConfig }): AuditKey {
  const key = loadAuditKey(config.audit);
  if (key) return key;
  if (config.mode === 'demo') return readAuditKeyFile(generatedAuditKeyFile(demoKeyFile(config.audit.path)), 'generated audit key');
  throw new AuditKeyError('audit.keyFile: required in production mode when audit.path is set (MEDIC_AUDIT_KEY_FILE, or MEDIC_AUDIT_KEY)');
}

/** The checkpoint sinks the config names (the Slack one needs a Slack client). */
export function checkpointSinks(audit: AuditConfig, slack?: SlackPoster): CheckpointSink[] {
  const c = audit.checkpoints;
  const sinks: CheckpointSink[] = [];
  if (c.file) sinks.push(fileCheckpointSink(c.file));
  if (c.webhookUrl) sinks.push(webhookCheckpointSink(c.webhookUrl));
  if (c.slackChannel) {
    if (!slack) throw new AuditKeyError('audit.checkpoints.slackChannel: needs the slack section (a bot token to post with)');
    sinks.push(slackCheckpointSink(slack, c.slackChannel));
  }
  return sinks;
}

export interface OpenedAudit {
  db: Database;
  key: AuditKey;
  log: AuditLog;
  /** Present when the config names at least one checkpoint sink. */
  checkpointer?: Checkpointer;
  /** Writes the shutdown checkpoint, then closes the database. */
  close(): Promise<void>;
}

/** Opens the keyed log; with `checkpoints`, also starts the checkpointer (the worker does). */
export function openAudit(
  config: Pick<Config, 'mode'> & { audit: AuditConfig },
  opts: { checkpoints?: { slack?: SlackPoster; onError: (message: string) => void } } = {},
): OpenedAudit {
  const key = auditKeyOf(config);
  const db = openAuditDb(config.audit.path);
  let log: AuditLog;
  try {
    log = auditLog(db, { key });
  } catch (err) {
    db.close();
    throw err;
  }
  const sinks = opts.checkpoints ? checkpointSinks(config.audit, opts.checkpoints.slack) : [];
  const checkpointer =
    opts.checkpoints && sinks.length > 0
      ? startCheckpointer({ log, key, sinks, everyEntries: config.audit.checkpoints.everyEntries, intervalMs: config.audit.checkpoints.intervalSeconds * 1000, onError: opts.checkpoints.onError })
      : undefined;
  return {
    db,
    key,
    log,
    ...(checkpointer ? { checkpointer } : {}),
    async close() {
      await checkpointer?.stop();
      db.close();
    },
  };
}
