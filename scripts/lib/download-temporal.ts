// Gets the Temporal CLI (dev server) the way the SDK's own test environment does: core-bridge
// asks temporal.download for the build matching this SDK version, downloads and unpacks it, and
// starts it once (which proves the binary runs here), then stops it. Used by
// scripts/provision-demo.sh when no `temporal` is on PATH or cached.
//   tsx scripts/lib/download-temporal.ts <download dir> <timeout seconds> <result file>
// The result file gets one line: "ok <path of the binary>" or "fail <reason>". Exit 0 / 1.
// The server's own output goes to our stdout, which the caller sends to its log file.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { runIfEntryPoint } from './run-main.js';

/** The first line of an error chain that says why (reqwest's messages nest the cause). */
function reason(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) parts.push(e.message);
  // each layer repeats its cause's text: keep every distinct segment once
  const segments = [...new Set((parts.join(': ') || String(err)).replace(/\s+/g, ' ').split(': '))];
  return segments.join(': ').slice(0, 400);
}

export async function main(argv: string[]): Promise<number> {
  const [dir, timeoutText, resultFile] = argv;
  const timeoutS = Number(timeoutText);
  if (!dir || !resultFile || !(timeoutS > 0)) {
    console.error('usage: download-temporal.ts <download dir> <timeout seconds> <result file>');
    return 2;
  }
  const result = (line: string): void => writeFileSync(resultFile, `${line}\n`);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no download within ${timeoutS} s`)), timeoutS * 1000);
  });
  try {
    const env = await Promise.race([
      TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'cached-download', downloadDir: dir }, ui: false } }),
      timedOut,
    ]);
    await env.teardown();
  } catch (err) {
    result(`fail ${reason(err)}`);
    return 1;
  } finally {
    clearTimeout(timer);
  }
  // core-bridge names it temporal-sdk-typescript-<SDK version> (or temporal-<version>)
  const binary = readdirSync(dir).find((f) => /^temporal-/.test(f));
  if (!binary) {
    result(`fail the SDK started a dev server but left no temporal-* binary in ${dir}`);
    return 1;
  }
  result(`ok ${join(dir, binary)}`);
  return 0;
}

runIfEntryPoint(import.meta.url, main);
