// Ansible: runs a playbook from the configured directory with ansible-playbook against the
// configured inventory, limited to allow-listed hosts. Factory over its runner config (binary,
// playbook directory, inventory); one activity, ansiblePlaybook.
//
// Idempotency: the workflow's key (incident + step + the workflow's try, never the activity
// attempt) goes to the playbook as the extra-var medic_idempotency_key; the playbook's own tasks
// (ansible/medic-marker-check.yml, medic-marker-write.yml) keep a marker per key on each host, so
// a retried run reports "already applied" there. A retry first waits for a run of the same key
// that an earlier attempt on this machine left behind (its pid is in the heartbeat details).
//
// Alert data is hostile: the playbook is a relative name checked to stay inside playbookDir; the
// limit's names are resolved to hosts by the inventory and every host must match
// allow.ansible.hosts (and their number the blast radius) before anything runs; extra-vars go in a
// vars file, each value marked !unsafe so Ansible never templates it. Output is redacted and capped.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ANSIBLE_NAME, PLAYBOOK_FILE, resolvedHostsProblem, type AnsibleAllow } from '../src/playbooks/ansible.js';
import type { HostReport } from '../workflows/contracts-timeline.js';
import { hostResults, parseJsonCallback } from './ansible-report.js';
import { capOutput } from './redact.js';
import { heartbeat, inActivity } from './context.js';

export interface AnsibleDeps {
  /** ansible-playbook (ansible-inventory is taken from the same directory). */
  ansiblePlaybook: string;
  /** Where playbooks live: a step names a file relative to it. */
  playbookDir: string;
  /** Inventory file or directory (-i). */
  inventory: string;
  /** Extra environment for ansible (e.g. ANSIBLE_CONFIG); PATH and HOME are passed through. */
  env?: Record<string, string>;
  /** Heartbeat interval while ansible runs (default 5 s). */
  heartbeatMs?: number;
}

export interface AnsibleRunInput {
  playbook: string;
  /** Rendered --limit names (hosts or groups). */
  limit: string[];
  extraVars: Record<string, string>;
  allow?: AnsibleAllow;
  blastRadius: number;
  idempotencyKey: string;
  /** --check --diff: medic's dry run (also the preview an approval request shows). */
  dryRun: boolean;
  timeoutMs: number;
}

export interface AnsibleRunResult {
  dryRun: boolean;
  summary: string;
  durationMs: number;
  report: HostReport;
}

const refused = (message: string): ApplicationFailure => ApplicationFailure.create({ type: 'AnsibleRefused', nonRetryable: true, message: `refused, nothing ran: ${message}` });

/** The vars file: every value a YAML double-quoted scalar (JSON strings are valid ones) marked !unsafe. */
export function varsFile(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}: !unsafe ${JSON.stringify(v)}\n`)
    .join('');
}

/** Every host of the inventory, and every group with its hosts (children expanded). */
export function inventoryIndex(list: Record<string, { hosts?: string[]; children?: string[] } | undefined>): { hosts: Set<string>; groups: Map<string, string[]> } {
  const hostvars = (list._meta as { hostvars?: Record<string, unknown> } | undefined)?.hostvars ?? {};
  const hosts = new Set(Object.keys(hostvars));
  const groups = new Map<string, string[]>();
  const expand = (g: string, seen: Set<string>): string[] => {
    if (seen.has(g)) return [];
    seen.add(g);
    const node = list[g];
    return [...(node?.hosts ?? []), ...(node?.children ?? []).flatMap((c) => expand(c, seen))];
  };
  for (const g of Object.keys(list)) {
    if (g === '_meta') continue;
    const members = [...new Set(expand(g, new Set()))];
    members.forEach((h) => hosts.add(h));
    groups.set(g, members);
  }
  return { hosts, groups };
}

export function createAnsibleActivities(deps: AnsibleDeps | undefined) {
  const beatMs = deps?.heartbeatMs ?? 5_000;
  const baseEnv = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    LANG: 'C.UTF-8',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
    ...deps?.env,
  });

  /** The playbook's real path, which must stay inside playbookDir (symlinks resolved). */
  function playbookPath(d: AnsibleDeps, name: string): string {
    if (!PLAYBOOK_FILE.test(name)) throw refused(`playbook ${JSON.stringify(name)} is not a file name relative to ansible.playbookDir`);
    const root = realpathSync(d.playbookDir);
    const path = join(root, name);
    if (!existsSync(path) || !statSync(path).isFile()) throw refused(`playbook ${name} not found in ${d.playbookDir}`);
    const real = realpathSync(path);
    if (!real.startsWith(root + sep)) throw refused(`playbook ${name} resolves outside ansible.playbookDir`);
    return real;
  }

  /** Runs a command in its own process group, heartbeating; cancellation and the deadline kill the group. */
  function run(cmd: string, args: string[], o: { timeoutMs: number; details: Record<string, unknown>; trackPid?: boolean }): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: baseEnv() });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => void (stdout.length < 32_000_000 && (stdout += d.toString())));
      child.stderr.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-16_000)));
      // The pid lets a retried attempt wait for a playbook run its dead worker left behind.
      const details = o.trackPid === false ? o.details : { ...o.details, pid: child.pid };
      const beat = (): void => heartbeat(details);
      beat();
      let stopped: string | undefined;
      const kill = (why: string): void => {
        killGroup(child.pid);
        stopped = why;
      };
      const beats = setInterval(beat, beatMs);
      const deadline = setTimeout(() => kill(`still running after ${o.timeoutMs}ms`), o.timeoutMs);
      const signal = inActivity() ? Context.current().cancellationSignal : undefined;
      const onCancel = (): void => kill('cancelled');
      signal?.addEventListener('abort', onCancel);
      child.on('error', (err) => reject(new Error(`${cmd} could not start: ${err.message}`, { cause: err })));
      child.on('close', (code) => {
        clearInterval(beats);
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onCancel);
        if (stopped === 'cancelled') return reject(signal?.reason ?? new Error('cancelled'));
        if (stopped) return reject(ApplicationFailure.create({ type: 'AnsibleTimeout', nonRetryable: true, message: `ansible ${stopped}; its process group was killed` }));
        resolve({ code, stdout, stderr });
      });
    });
  }

  // An inventory file is read once per change (ansible-inventory takes seconds); a directory or a
  // script every time.
  let cached: { mtimeMs: number; index: ReturnType<typeof inventoryIndex> } | undefined;
  async function inventory(d: AnsibleDeps, timeoutMs: number): Promise<ReturnType<typeof inventoryIndex>> {
    const st = statSync(d.inventory, { throwIfNoEntry: false });
    const mtimeMs = st?.isFile() && (st.mode & 0o111) === 0 ? st.mtimeMs : undefined;
    if (mtimeMs !== undefined && cached?.mtimeMs === mtimeMs) return cached.index;
    const bin = join(dirname(d.ansiblePlaybook), 'ansible-inventory');
    const r = await run(existsSync(bin) ? bin : 'ansible-inventory', ['-i', d.inventory, '--list'], { timeoutMs: Math.min(timeoutMs, 60_000), details: { phase: 'inventory' }, trackPid: false });
    if (r.code !== 0) throw ApplicationFailure.create({ type: 'AnsibleFailed', nonRetryable: true, message: `ansible-inventory failed (exit ${r.code}): ${capOutput(r.stderr, 400)}` });
    const index = inventoryIndex(JSON.parse(r.stdout) as Record<string, { hosts?: string[]; children?: string[] }>);
    if (mtimeMs !== undefined) cached = { mtimeMs, index };
    return index;
  }

  async function resolveHosts(d: AnsibleDeps, input: AnsibleRunInput): Promise<string[]> {
    for (const name of input.limit) if (!ANSIBLE_NAME.test(name)) throw refused(`limit entry ${JSON.stringify(name).slice(0, 70)} is not one host or group name`);
    const index = await inventory(d, input.timeoutMs);
    const hosts: string[] = [];
    for (const name of input.limit) {
      const members = index.groups.get(name) ?? (index.hosts.has(name) ? [name] : undefined);
      if (!members) throw refused(`no host or group ${name} in the inventory`);
      for (const h of members) if (!hosts.includes(h)) hosts.push(h);
    }
    const problem = resolvedHostsProblem(hosts, input.allow, input.blastRadius);
    if (problem) throw refused(problem);
    return hosts;
  }

  async function ansiblePlaybook(input: AnsibleRunInput): Promise<AnsibleRunResult> {
    if (!deps) throw ApplicationFailure.create({ type: 'AnsibleNotConfigured', nonRetryable: true, message: 'ansible is not configured (config ansible: playbookDir, inventory)' });
    const started = Date.now();
    const path = playbookPath(deps, input.playbook);
    const hosts = await resolveHosts(deps, input);
    const keyHash = createHash('sha256').update(input.idempotencyKey).digest('hex').slice(0, 16);
    await awaitEarlierRun(keyHash, input.timeoutMs);
    const dir = mkdtempSync(join(tmpdir(), `medic-ansible-${keyHash}-`));
    try {
      const vars = join(dir, 'vars.yml');
      writeFileSync(vars, varsFile({ ...input.extraVars, medic_idempotency_key: input.idempotencyKey }), { mode: 0o600 });
      const args = ['-i', deps.inventory, '--limit', hosts.join(','), '-e', `@${vars}`, ...(input.dryRun ? ['--check', '--diff'] : []), path];
      const r = await run(deps.ansiblePlaybook, args, { timeoutMs: input.timeoutMs, details: { keyHash } });
      const parsed = parseJsonCallback(r.stdout);
      if (!parsed) {
        throw ApplicationFailure.create({ type: 'AnsibleFailed', nonRetryable: true, message: `ansible-playbook ${input.playbook} failed (exit ${r.code}) without a report: ${capOutput(r.stderr || r.stdout, 600)}` });
      }
      const report: HostReport = { playbook: input.playbook, check: input.dryRun, hosts: hostResults(parsed, hosts) };
      const bad = report.hosts.filter((h) => h.status === 'failed' || h.status === 'unreachable');
      const counts = (['changed', 'ok', 'already-applied'] as const).map((s) => `${report.hosts.filter((h) => h.status === s).length} ${s.replace('-', ' ')}`).join(', ');
      const what = `${input.dryRun ? 'check (--check --diff) of ' : ''}${input.playbook} on ${hosts.join(', ')}`;
      if (bad.length > 0) {
        const which = bad.map((h) => `${h.host} ${h.status}${h.message ? ` (${h.message.split('\n')[0]!.slice(0, 160)})` : ''}`).join('; ');
        throw ApplicationFailure.create({ type: 'AnsibleFailed', nonRetryable: true, message: `${what}: ${which}; others: ${counts}`, details: [{ hosts: report }] });
      }
      return { dryRun: input.dryRun, summary: `${what}: ${counts}`, durationMs: Date.now() - started, report };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  return { ansiblePlaybook };
}

/** Kills a process group: TERM, then KILL after a grace period. */
function killGroup(pid: number | undefined): void {
  if (!pid) return;
  const send = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  send('SIGTERM');
  setTimeout(() => send('SIGKILL'), 3_000).unref();
}

/** An earlier attempt's ansible run of the same key, still alive on this machine (the worker that
 * started it died): waited for, so its markers are written before this run reads them. */
async function awaitEarlierRun(keyHash: string, timeoutMs: number): Promise<void> {
  const pid = (inActivity() ? (Context.current().info.heartbeatDetails as { pid?: number; keyHash?: string } | undefined) : undefined)?.pid;
  if (!pid) return;
  const mine = (): boolean => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`medic-ansible-${keyHash}-`);
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (mine() && Date.now() < deadline) {
    heartbeat({ keyHash, waitingFor: pid });
    await new Promise((r) => setTimeout(r, 250));
  }
}

