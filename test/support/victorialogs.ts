// A real VictoriaLogs (built by scripts/provision-victorialogs.sh into .cache/bin) on a free port
// with a throwaway data directory: the log store the evidence pack's log source reads in tests
// (there is no kubelet behind the test API server, so the pod log endpoint has nothing to serve).
// A missing binary fails the test; it never skips.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../dev/ports.js';
import { ROOT } from './paths.js';

export const VICTORIA_LOGS = join(ROOT, '.cache', 'bin', 'victoria-logs');

export interface LogLine {
  _msg: string;
  _time?: string;
  [field: string]: string | undefined;
}

export interface VictoriaLogs {
  url: string;
  /** Ingests lines (JSON lines API) with these stream fields, then flushes so queries see them. */
  ingest(lines: LogLine[], streamFields: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startVictoriaLogs(timeoutMs = 30_000): Promise<VictoriaLogs> {
  if (!existsSync(VICTORIA_LOGS)) throw new Error(`missing ${VICTORIA_LOGS}: run "bash scripts/provision.sh" (it builds VictoriaLogs with go install; npm test does it for you)`);
  const dir = await mkdtemp(join(tmpdir(), 'medic-vlogs-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(VICTORIA_LOGS, [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${dir}`, '-retentionPeriod=1d', '-loggerLevel=ERROR'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let ingested = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`victoria-logs exited (${child.exitCode}): ${stderr}`);
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`victoria-logs did not answer /health within ${timeoutMs}ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async ingest(lines, streamFields) {
      const body = lines.map((l) => JSON.stringify(l)).join('\n');
      const res = await fetch(`${url}/insert/jsonline?${new URLSearchParams({ _stream_fields: streamFields.join(','), _msg_field: '_msg', _time_field: '_time' })}`, { method: 'POST', body });
      if (!res.ok) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
      // Ingested rows become searchable a moment later (buffered, then flushed): wait for them.
      for (const until = Date.now() + 15_000; ; ) {
        await fetch(`${url}/internal/force_flush`);
        const r = await fetch(`${url}/select/logsql/query?${new URLSearchParams({ query: '* | stats count() n' })}`);
        const n = Number(((await r.json()) as { n?: string }).n ?? 0);
        if (n >= ingested + lines.length) {
          ingested = n;
          return;
        }
        if (Date.now() > until) throw new Error(`VictoriaLogs shows ${n} rows, expected ${ingested + lines.length}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
