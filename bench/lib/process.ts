// What the worker-process benches share: a process's resident memory, a sampler of its peak while
// the bench runs, and the entry point that prints a failure and exits 1.
import { readFile } from 'node:fs/promises';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resident memory of a process, in bytes (Linux /proc). */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Samples the RSS of each named process every 200 ms; `peak` holds the highest seen until stop(). */
export function peakRss<K extends string>(pids: Record<K, number>): { peak: Record<K, number>; stop(): Promise<void> } {
  const names = Object.keys(pids) as K[];
  const peak = Object.fromEntries(names.map((n) => [n, 0])) as Record<K, number>;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const n of names) peak[n] = Math.max(peak[n], await rssOf(pids[n]).catch(() => 0));
      await sleep(200);
    }
  })();
  return {
    peak,
    async stop() {
      sampling = false;
      await sampler;
    },
  };
}

/** Runs a bench's main(); a failure is printed and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
