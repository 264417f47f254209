// What the worker-process benches share: a process's resident memory, a sampler of its peak while
// the bench runs, the machine and its load for the results file, and the entry point that prints a
// failure and exits 1.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import type { Machine } from './results.js';

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

/** The load averages (1, 5, 15 min) as uptime prints them: benches record them before and after. */
export function loadAverage(): string {
  return /load averages?:\s*(.*)$/.exec(execFileSync('uptime').toString().trim())?.[1] ?? 'unknown';
}

/** The machine a bench ran on, for its results file (bench/lib/results.ts MachineSchema). */
export function machine(loadBefore: string): Machine {
  return { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', loadBefore, loadAfter: loadAverage() };
}

/** The machine now, for the knee benches' results files: cores, CPU and the load average (the machine
 * is shared, so the load says how far the figures can be trusted). */
export const machineNow = (): { cores: number; cpu: string; load: string } => ({
  cores: cpus().length,
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  load: loadavg().map((l) => l.toFixed(2)).join(', '),
});

