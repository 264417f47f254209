// The Dockerfile cannot be built here (no Docker engine), so what can be checked without one is:
// its stages and their roles (multi-stage, production dependencies only in a slim runtime, a
// non-root user matching the Helm chart, a health check), that everything it copies and runs
// exists and is not excluded by .dockerignore, that the code in the image needs no dev
// dependency, and that its health-check script really tells a healthy process from a broken one.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../dev/ports.js';
import { importsOf } from '../../scripts/lib/layers.js';
import { startHealthServer } from '../../src/temporal/health.js';
import { ROOT } from '../support/paths.js';

const run = promisify(execFile);

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string;
  steps: Instruction[];
}

/** Instructions of the Dockerfile (comments dropped, continuation lines joined), by stage. */
function stagesOf(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const instruction = { op: op!.toUpperCase(), args: rest.join(' ') };
    if (instruction.op === 'ARG' && stages.length === 0) {
      const [k, v] = instruction.args.split('=');
      args.set(k!, v ?? '');
    } else if (instruction.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args)!;
      const from = m[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '');
      stages.push({ from, name: m[2] ?? String(stages.length), steps: [] });
    } else {
      stages.at(-1)!.steps.push(instruction);
    }
  }
  return stages;
}

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const stages = stagesOf(DOCKERFILE);
const runtime = stages.at(-1)!;
const steps = (stage: Stage, op: string): string[] => stage.steps.filter((s) => s.op === op).map((s) => s.args);
const execForm = (args: string): string[] => JSON.parse(args) as string[];

describe('Dockerfile', () => {
  it('has a production-dependency stage, a build stage and a slim runtime stage', () => {
    expect(stages.map((s) => s.name)).toEqual(['deps', 'build', 'runtime']);
    expect(steps(stages[0]!, 'RUN').join(' ')).toMatch(/npm ci --omit=dev/);
    expect(steps(stages[1]!, 'RUN').join(' ')).toMatch(/scripts\/bundle-workflows\.ts dist\/workflow-bundle\.js/);
    expect(runtime.from).toMatch(/^node:24-[a-z]+-slim$/);
    // the runtime gets node_modules only from the production-only stage, and installs nothing itself
    expect(steps(runtime, 'COPY')).toContain('--from=deps /app/node_modules ./node_modules');
    expect(steps(runtime, 'COPY').filter((c) => c.startsWith('--from=build'))).toEqual(['--from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js']);
    expect(steps(runtime, 'RUN').join(' ')).not.toMatch(/npm (ci|install)/);
    expect(steps(runtime, 'ENV').join(' ')).toContain('MEDIC_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js');
  });

  it('runs as a non-root user, the uid the Helm chart expects', () => {
    const users = steps(runtime, 'USER');
    expect(users).toHaveLength(1);
    const uid = users[0]!.split(':')[0]!;
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    const chart = parse(readFileSync(join(ROOT, 'deploy/helm/medic/values.yaml'), 'utf8')) as { podSecurityContext: { runAsUser: number } };
    expect(chart.podSecurityContext.runAsUser).toBe(Number(uid));
    // nothing after USER switches back
    const last = runtime.steps.map((s) => s.op).lastIndexOf('USER');
    expect(runtime.steps.slice(last + 1).map((s) => s.op)).not.toContain('RUN');
  });

  it('has a health check and a default command whose files exist', () => {
    const health = steps(runtime, 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    const check = execForm(health[0]!.slice(health[0]!.indexOf('CMD') + 3).trim());
    expect(check).toEqual(['node', 'bin/healthcheck.js']);
    expect(existsSync(join(ROOT, check[1]!))).toBe(true);
    const cmd = execForm(steps(runtime, 'CMD')[0]!);
    expect(cmd).toEqual(['node', '--import', 'tsx', 'src/server/main.ts']);
    expect(existsSync(join(ROOT, cmd[3]!))).toBe(true);
    expect(existsSync(join(ROOT, 'src/worker.ts'))).toBe(true);
  });

  it('copies only paths that exist and that .dockerignore keeps in the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    // secrets and local state never reach the context
    for (const p of ['.env', '.git', '.cache', '.medic', 'node_modules']) expect(ignored).toContain(p);
    for (const stage of stages) {
      for (const copy of steps(stage, 'COPY').filter((c) => !c.startsWith('--from'))) {
        const sources = copy.split(/\s+/).slice(0, -1);
        for (const src of sources) {
          expect(existsSync(join(ROOT, src)), `${stage.name}: COPY ${src}`).toBe(true);
          expect(ignored.some((i) => src === i || src.startsWith(`${i}/`)), `${src} is excluded by .dockerignore`).toBe(false);
        }
      }
    }
  });

  it('the code in the image imports production dependencies only', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const copied = steps(runtime, 'COPY').filter((c) => !c.startsWith('--from')).map((c) => c.split(/\s+/)[0]!).filter((p) => statSync(join(ROOT, p)).isDirectory());
    expect(copied).toEqual(expect.arrayContaining(['src', 'workflows', 'activities', 'bin']));
    const walk = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : /\.(ts|js|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
      );
    const files = copied.flatMap((dir) => walk(dir));
    const needed = new Map<string, string>();
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const specifiers = [
        ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]/gms)].map((m) => m[1]!),
        ...[...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!),
        ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
      ];
      for (const s of specifiers) {
        if (s.startsWith('.') || s.startsWith('node:')) continue;
        const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
        if (!needed.has(name)) needed.set(name, relative(ROOT, join(ROOT, file)));
      }
    }
    expect(needed.size).toBeGreaterThan(10);
    const notProduction = [...needed].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (imported by ${file})`);
    expect(notProduction).toEqual([]);
  });

  it('the runtime image holds product code only: no stand-in, test, bench or script, and nothing in it imports outside it', () => {
    const copied = steps(runtime, 'COPY').filter((c) => !c.startsWith('--from')).flatMap((c) => c.split(/\s+/).slice(0, -1));
    const product = ['package.json', 'bin', 'src', 'workflows', 'activities', 'playbooks', 'runbooks'];
    expect(copied.filter((p) => !product.includes(p)), 'runtime COPY sources outside the product').toEqual([]);
    // dev/ (the stand-ins and the demo) is not even in the build context
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const dir of ['dev', 'test', 'bench']) expect(ignored).toContain(dir);
    const walk = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : /\.(ts|js|mjs)$/.test(e.name) ? [join(dir, e.name).split('\\').join('/')] : [],
      );
    const files = copied.filter((p) => statSync(join(ROOT, p)).isDirectory()).flatMap((dir) => walk(dir));
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => /stand-?in|demo-service|(^|\/)dev\//i.test(f)), 'stand-ins in the image').toEqual([]);
    const inImage = (path: string) => copied.some((p) => path === p || path.startsWith(`${p}/`));
    const outside = files
      .flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')))
      .filter((i) => !inImage(i.to) || !(existsSync(join(ROOT, i.to)) || existsSync(join(ROOT, i.to.replace(/\.ts$/, '.js')))))
      .map((i) => `${i.from} -> ${i.to}`);
    expect(outside).toEqual([]);
  });

  it('bin/healthcheck.js exits 0 for a healthy process and 1, saying why, otherwise', async () => {
    let ready = false;
    const health = await startHealthServer({ port: 0, host: '127.0.0.1', ready: () => (ready ? undefined : 'workers not running') });
    try {
      const env = { ...process.env, MEDIC_WORKER_HEALTH_PORT: String(health.port) };
      const script = join(ROOT, 'bin/healthcheck.js');
      await expect(run(process.execPath, [script], { env })).resolves.toBeDefined();
      await expect(run(process.execPath, [script, '/readyz'], { env })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('/readyz: HTTP 503') });
      ready = true;
      await expect(run(process.execPath, [script, '/readyz'], { env })).resolves.toBeDefined();
      const closed = { ...process.env, MEDIC_WORKER_HEALTH_PORT: '', MEDIC_HTTP_PORT: String(await freePort()) };
      await expect(run(process.execPath, [script], { env: closed })).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/healthz: fetch failed/) });
    } finally {
      await health.close();
    }
  });
});
