// npm run bench:drill — MTTR overhead (medic's own share of a heal, src/drills/overhead.ts) over
// DRILL_RUNS (default 3) runs of the demo-outage drill (DRILL_SCENARIO) on the embedded demo
// (dev/demo/main.ts in its own directory: a file-backed dev server, medic's worker and server,
// the demo service and its detection), each run through medic's drill API as `medic drill` does.
// The baseline is the heal itself: detected → healed, of which the action's own time and the
// verification are not medic's. Writes bench/results/drill-overhead.json and its README block.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drillCommand, type Call } from '../src/cli/drill.js';
import { formatDrillReport } from '../src/drills/report.js';
import { OVERHEAD_GOAL_SECONDS, type DrillReport } from '../workflows/contracts-drill.js';
import { percentile } from './lib/compare-executor.js';
import { loadAverage, machine, runBench, sleep } from './lib/process.js';
import { writeBenchResult } from './lib/readme.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.DRILL_RUNS ?? 3);
/** Drills run first and not counted: the first incident after a start also starts medic's
 * governor workflow (a once-per-deployment cost, recorded in the settings). */
const WARMUP = Number(process.env.DRILL_WARMUP ?? 1);
const SCENARIO = process.env.DRILL_SCENARIO ?? 'demo-outage';

async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const dir = await mkdtemp(join(tmpdir(), 'medic-bench-drill-'));
  console.log(`drill: load before ${loadBefore}; starting the embedded demo in ${dir} (its output: ${dir}/demo.out)…`);
  // node itself (not npx): the SIGINT at the end reaches the demo, which stops what it started.
  const demo = spawn(process.execPath, ['--import', 'tsx', 'dev/demo/main.ts', '--dir', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(join(dir, 'demo.out'));
  demo.stdout.pipe(out);
  demo.stderr.pipe(out);
  const exited = new Promise<number | null>((r) => demo.once('exit', r));
  try {
    const cli = join(dir, 'cli.json');
    for (let waited = 0; !existsSync(cli); waited += 500) {
      if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode}); see ${dir}/demo.out`);
      if (waited > 300_000) throw new Error(`the demo did not start within 5 min; see ${dir}/demo.out`);
      await sleep(500);
    }
    await sleep(1_000); // cli.json is written just before detection starts
    const { url, token } = JSON.parse(await readFile(cli, 'utf8')) as { url: string; token: string };
    const call: Call = async <T,>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const json = (await res.json()) as T & { error?: string };
      if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${json.error ?? ''}`);
      return json;
    };

    const reports: DrillReport[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const lines: string[] = [];
      await drillCommand([SCENARIO], { json: true }, call, (s) => lines.push(s), { pollMs: 500, timeoutMs: 300_000 });
      const report = JSON.parse(lines[lines.length - 1]!) as DrillReport;
      if (!report.overhead) throw new Error(`drill ${i + 1}: no overhead figure (${report.overheadUnknown ?? report.reasons.join('; ')})`);
      reports.push(report);
      console.log(formatDrillReport(report));
      console.log(`drill ${i + 1}/${WARMUP + RUNS}${i < WARMUP ? ' (warm-up)' : ''}: ${report.passed ? 'PASS' : 'FAIL'}, overhead ${report.overhead.overheadSeconds} s of ${report.overhead.detectToHealedSeconds} s`);
      await sleep(5_000); // the alert resolves before the next fault
    }

    const warmups = reports.splice(0, WARMUP);
    const overheads = reports.map((r) => r.overhead!.overheadSeconds);
    const block = await writeBenchResult(ROOT, 'drill-overhead', {
      date: new Date().toISOString(),
      machine: machine(loadBefore),
      settings: {
        scenario: SCENARIO,
        runs: RUNS,
        server: 'the embedded demo (dev server, SQLite file)',
        'warm-up drills': WARMUP,
        ...(warmups[0] ? { 'first drill after start (governor started), overhead s': warmups[0].overhead!.overheadSeconds } : {}),
      },
      runs: reports.map((r) => {
        const o = r.overhead!;
        const g = o.gaps[0];
        return {
          scenario: r.scenario,
          detectToHealedSeconds: o.detectToHealedSeconds,
          actionSeconds: o.actionSeconds,
          verificationSeconds: o.verificationSeconds,
          overheadSeconds: o.overheadSeconds,
          largestGap: g ? `${g.from} → ${g.to} ${g.seconds.toFixed(2)} s` : '—',
        };
      }),
      overheadP50Seconds: percentile(overheads, 50),
      overheadMaxSeconds: Math.max(...overheads),
      goal: { overheadSeconds: OVERHEAD_GOAL_SECONDS, met: overheads.every((x) => x <= OVERHEAD_GOAL_SECONDS) },
    });
    console.log(`\n${block}\n`);
    console.log('drill: wrote bench/results/drill-overhead.json and the README block. Absolute figures depend on the load shown.');
  } finally {
    demo.kill('SIGINT');
    const timer = setTimeout(() => demo.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  }
}

runBench(main);
