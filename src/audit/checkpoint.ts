// Signed checkpoints of the audit log: {seq, count, head hash, head MAC, keyed from, time}, signed
// with the audit key's Ed25519 key and written to sinks outside the database (an append-only JSONL
// file on another volume, a webhook, a Slack channel). Someone who can rewrite the SQLite file
// cannot rewrite what was exported, nor sign a new checkpoint, so `medic audit verify --checkpoint`
// catches a rewritten chain (even one recomputed consistently) and a truncated one.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { canonicalJson } from './chain.js';
import type { AuditKey } from './key.js';
import type { AuditLog } from './log.js';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits');

export const CheckpointSchema = z.strictObject({
  v: z.literal(1).describe('Checkpoint format version'),
  seq: z.number().int().min(1).describe('The last entry (#) the checkpoint covers'),
  count: z.number().int().min(1).describe('How many entries the log held'),
  head: Hex64.describe('SHA-256 chain hash of entry #seq'),
  mac: Hex64.nullable().describe('HMAC chain value of entry #seq (null if it predates keying)'),
  keyedFrom: z.number().int().min(1).describe('The first entry carrying a MAC'),
  keyId: z.string().regex(/^[0-9a-f]{16}$/).describe('Id of the signing key (medic audit public-key)'),
  at: z.iso.datetime().describe('When the checkpoint was taken'),
  reason: z.enum(['start', 'entries', 'interval', 'shutdown']).describe('What triggered it'),
  sig: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64').describe('Ed25519 signature (base64) of the canonical JSON of every other field'),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;
export type CheckpointReason = Checkpoint['reason'];

/** The bytes a checkpoint's signature covers: every field but `sig`, canonical JSON. */
export function signedBytes(cp: Omit<Checkpoint, 'sig'> & { sig?: string }): string {
  const { sig: _sig, ...fields } = cp;
  return canonicalJson(fields);
}

/** A checkpoint of the log's current end; undefined for an empty or unkeyed log. */
export function takeCheckpoint(log: AuditLog, key: AuditKey, reason: CheckpointReason, now = new Date()): Checkpoint | undefined {
  const head = log.head();
  const marker = log.marker();
  if (!head || !marker) return undefined;
  const fields = { v: 1 as const, seq: head.seq, count: head.count, head: head.hash, mac: head.mac, keyedFrom: marker.keyedFrom, keyId: key.id, at: now.toISOString(), reason };
  return { ...fields, sig: key.sign(signedBytes(fields)) };
}

export interface CheckpointSink {
  name: string;
  write(cp: Checkpoint): Promise<void>;
}

/** Appends one JSON line per checkpoint (keep the file on another volume than the log). */
export function fileCheckpointSink(path: string): CheckpointSink {
  return {
    name: `file ${path}`,
    async write(cp) {
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, `${JSON.stringify(cp)}\n`, { flag: 'a' });
    },
  };
}

/** POSTs each checkpoint as JSON; the receiver keeps them (verify reads them back from a URL). */
export function webhookCheckpointSink(url: string, timeoutMs = 10_000): CheckpointSink {
  return {
    name: `webhook ${new URL(url).origin}`,
    async write(cp) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(cp), signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    },
  };
}

/** Minimal surface of the Slack WebClient the Slack sink uses. */
export interface SlackPoster {
  chat: { postMessage(args: { channel: string; text: string }): Promise<{ ok?: boolean; error?: string }> };
}

/** Posts each checkpoint to a Slack channel; the JSON line in the message verifies as is. */
export function slackCheckpointSink(web: SlackPoster, channel: string): CheckpointSink {
  return {
    name: `slack ${channel}`,
    async write(cp) {
      const text = `medic audit checkpoint: entry #${cp.seq} (${cp.count} entries, key ${cp.keyId}, ${cp.reason})\n\`\`\`${JSON.stringify(cp)}\`\`\``;
      const res = await web.chat.postMessage({ channel, text });
      if (res.ok === false) throw new Error(res.error ?? 'chat.postMessage failed');
    },
  };
}

export class CheckpointsError extends Error {}

/**
 * Checkpoints from exported text: JSON lines (a sink's file, or lines copied from the Slack
 * channel, code fences and all) or a JSON array (a webhook receiver's listing). A line that is
 * not a valid checkpoint fails the whole read: the verifier must not skip what it cannot check.
 */
export function parseCheckpoints(text: string, source: string): Checkpoint[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const items: Array<{ where: string; value: unknown }> = [];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new CheckpointsError(`${source}: not JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new CheckpointsError(`${source}: expected a JSON array of checkpoints`);
    parsed.forEach((value, i) => items.push({ where: `${source} item ${i + 1}`, value }));
  } else {
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.replace(/^`{3}|`{3}$/g, '').trim();
      if (line === '' || !line.startsWith('{')) {
        if (line !== '' && !line.startsWith('medic audit checkpoint:')) throw new CheckpointsError(`${source} line ${i + 1}: not a checkpoint: ${line.slice(0, 60)}`);
        continue;
      }
      try {
        items.push({ where: `${source} line ${i + 1}`, value: JSON.parse(line) });
      } catch (err) {
        throw new CheckpointsError(`${source} line ${i + 1}: not JSON: ${(err as Error).message}`);
      }
    }
  }
  return items.map(({ where, value }) => {
    const r = CheckpointSchema.safeParse(value);
    if (!r.success) throw new CheckpointsError(`${where}: ${r.error.issues.map((i) => `${i.path.join('.') || '(checkpoint)'}: ${i.message}`).join('; ')}`);
    return r.data;
  });
}

/** Reads checkpoints from a file path or an http(s) URL. */
export async function loadCheckpoints(source: string): Promise<Checkpoint[]> {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source, { signal: AbortSignal.timeout(15_000) }).catch((err: Error) => {
      throw new CheckpointsError(`${source}: cannot fetch checkpoints: ${String(err.cause ?? err.message)}`);
    });
    if (!res.ok) throw new CheckpointsError(`${source}: HTTP ${res.status}`);
    return parseCheckpoints(await res.text(), source);
  }
  const text = await readFile(source, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CheckpointsError(`${source}: cannot read checkpoints: ${err.code ?? err.message}`);
  });
  return parseCheckpoints(text, source);
}

export interface CheckpointerOptions {
  log: AuditLog;
  key: AuditKey;
  sinks: CheckpointSink[];
  /** A checkpoint once this many entries were appended since the last one. */
  everyEntries: number;
  /** And every interval while entries keep arriving (from any process writing the log). */
  intervalMs: number;
  onError: (message: string) => void;
}

export interface Checkpointer {
  /** Call after appending: checkpoints when everyEntries were appended since the last one. */
  afterAppend(): void;
  /** Checkpoints now (if the log grew since the last one); resolves when every sink answered. */
  checkpoint(reason: CheckpointReason): Promise<Checkpoint | undefined>;
  /** Stops the timer and writes the shutdown checkpoint. */
  stop(): Promise<void>;
}

/** Takes checkpoints at start, every N entries, every interval, and on shutdown. */
export function startCheckpointer(o: CheckpointerOptions): Checkpointer {
  let lastSeq = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const write = async (reason: CheckpointReason): Promise<Checkpoint | undefined> => {
    let cp: Checkpoint | undefined;
    try {
      cp = takeCheckpoint(o.log, o.key, reason);
    } catch (err) {
      o.onError(`audit checkpoint (${reason}) could not read the log: ${(err as Error).message}`);
      return undefined;
    }
    if (!cp || cp.seq === lastSeq) return undefined;
    lastSeq = cp.seq;
    await Promise.all(o.sinks.map((s) => s.write(cp).catch((err: Error) => o.onError(`audit checkpoint #${cp.seq} to ${s.name} failed: ${err.message}`))));
    return cp;
  };
  // One at a time, in order: sinks see checkpoints with increasing seq.
  const run = (reason: CheckpointReason): Promise<Checkpoint | undefined> => {
    const next = queue.then(() => write(reason));
    queue = next.catch(() => undefined);
    return next;
  };
  const timer = setInterval(() => void run('interval'), o.intervalMs);
  timer.unref();
  void run('start');
  return {
    afterAppend() {
      const head = o.log.head();
      if (head && head.seq - lastSeq >= o.everyEntries) void run('entries');
    },
    checkpoint: run,
    async stop() {
      clearInterval(timer);
      await run('shutdown');
    },
  };
}
