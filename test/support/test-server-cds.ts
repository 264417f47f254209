// The Java time-skipping test server starts in ~4.5 s on a quiet 2-core machine, and the SDK gives
// it 5 s: on a loaded one every workflow test file could fail to start. A class-data sharing
// archive of its start-up classes (made once, by the global setup) and the client compiler cut
// that to under a second. A stale or unreadable archive is ignored by the JVM (-Xshare:auto).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, testServerPath } from './paths.js';

export const CDS_ARCHIVE = join(ROOT, '.cache', 'test', 'temporal-test-server.jsa');

/** JVM options for the test server (MEDIC_TEST_SERVER_JAVA_OPTS, read by its launcher script). */
export function testServerJavaOpts(): string {
  const share = existsSync(CDS_ARCHIVE) ? ` -XX:SharedArchiveFile=${CDS_ARCHIVE}` : '';
  return `-XX:TieredStopAtLevel=1 -XX:+UseSerialGC${share}`;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const c = connect(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });

/** Starts the test server once with -XX:ArchiveClassesAtExit, stops it once it listens. */
export async function makeTestServerArchive(): Promise<void> {
  if (existsSync(CDS_ARCHIVE)) return;
  const tmp = `${CDS_ARCHIVE}.${process.pid}.tmp`;
  const port = await freePort();
  const child = spawn(testServerPath(), [String(port), '--enable-time-skipping'], {
    env: { ...process.env, MEDIC_TEST_SERVER_JAVA_OPTS: `-XX:ArchiveClassesAtExit=${tmp}` },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 120_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the time-skipping test server (${testServerPath()}) did not start listening on ${port}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM'); // the JVM writes the archive on its way out
  await exited;
  if (existsSync(tmp)) await rename(tmp, CDS_ARCHIVE);
  else await rm(tmp, { force: true });
}
