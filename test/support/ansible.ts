// Real hosts for the ansible step: sshd instances (Debian's openssh-server) on extra loopback
// ports, each with its own host dir, host keys and authorized_keys, run as the current user with
// `sshd -D -f <config>`; plus hosts reached over the local connection (the quick path). Each host
// runs a small HTTP service (python3 -m http.server in its own session, pid in its run dir) that
// a test breaks and ansible/restart-service.yml heals. ansible-core comes from
// scripts/provision-ansible.sh (.cache/ansible-venv); a missing part fails the test, never skips.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { AnsibleDeps } from '../../activities/ansible.js';
import { freePort } from '../../dev/ports.js';
import { ROOT } from './paths.js';

export const ANSIBLE_VENV = join(ROOT, '.cache/ansible-venv');
export const ANSIBLE_PLAYBOOK = join(ANSIBLE_VENV, 'bin/ansible-playbook');
/** The shipped Ansible playbooks (ansible/restart-service.yml and the marker tasks). */
export const SHIPPED_ANSIBLE_DIR = join(ROOT, 'ansible');
/** Test playbooks (held-restart.yml), copied beside the shipped ones with `withTestPlaybooks`. */
const TEST_ANSIBLE_DIR = join(ROOT, 'test/fixtures/ansible');
const SSHD = '/usr/sbin/sshd';

/** Fails loudly when a part is missing. */
export function requireAnsible(): void {
  if (!existsSync(ANSIBLE_PLAYBOOK)) throw new Error(`missing ${ANSIBLE_PLAYBOOK}: run "bash scripts/provision-ansible.sh" (scripts/provision.sh runs it)`);
  if (!existsSync(SSHD)) throw new Error(`missing ${SSHD}: run "bash scripts/provision-ansible.sh" (installs Debian's openssh-server)`);
}

export interface TestHost {
  name: string;
  dir: string;
  /** The host's HTTP service: http://127.0.0.1:<port>/ */
  serviceUrl: string;
  /** How ansible reaches it. */
  via: 'ssh' | 'local' | 'unreachable';
  sshPort?: number;
}

export interface AnsibleHosts {
  hosts: Record<string, TestHost>;
  inventory: string;
  /** Worker config (activities/ansible.ts) over the shipped playbooks (or `playbookDir`). */
  deps: AnsibleDeps;
  /** The same, as the worker's environment (MEDIC_ANSIBLE_*). */
  env: Record<string, string>;
  startService(host: string): void;
  /** Kills the service's process group (the fault the step heals). */
  breakService(host: string): void;
  serviceUp(host: string): Promise<boolean>;
  /** Idempotency markers on the host (one per key applied there). */
  markers(host: string): string[];
  /** Runs of test/fixtures/ansible/held-restart.yml that reached the host. */
  runs(host: string): number;
  /** Lets held runs on the host go on. */
  release(host: string): void;
  stop(): Promise<void>;
}

export interface HostSpec {
  name: string;
  via: 'ssh' | 'local' | 'unreachable';
  groups?: string[];
}

function sshdConfig(dir: string, port: number): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
    '',
  ].join('\n');
}

async function listening(port: number, ms = 10_000): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the hosts (sshd per ssh host), writes the inventory. */
export async function startAnsibleHosts(specs: HostSpec[], o: { withTestPlaybooks?: boolean } = {}): Promise<AnsibleHosts> {
  requireAnsible();
  const root = mkdtempSync(join(tmpdir(), 'medic-ansible-hosts-'));
  const clientKey = join(root, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  const knownHosts = join(root, 'known_hosts');
  writeFileSync(knownHosts, '');
  // sshd started as root needs its privilege separation directory.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const sshds: ChildProcess[] = [];
  const hosts: Record<string, TestHost> = {};
  const lines: string[] = [];
  const groups = new Map<string, string[]>();
  const user = userInfo().username;
  const python = execFileSync('sh', ['-c', 'command -v python3']).toString().trim();
  for (const spec of specs) {
    const dir = join(root, spec.name);
    mkdirSync(join(dir, 'www'), { recursive: true });
    writeFileSync(join(dir, 'www', 'index.html'), `${spec.name}\n`);
    const servicePort = await freePort();
    const host: TestHost = { name: spec.name, dir, serviceUrl: `http://127.0.0.1:${servicePort}/`, via: spec.via };
    const command = `exec ${python} -m http.server ${servicePort} --bind 127.0.0.1 --directory ${join(dir, 'www')}`;
    const vars = [
      `ansible_python_interpreter=${python}`,
      `host_dir=${dir}`,
      `medic_marker_dir=${join(dir, 'markers')}`,
      `medic_service_run_dir=${join(dir, 'run')}`,
      `medic_service_commands='${JSON.stringify({ demo: command })}'`,
    ];
    if (spec.via === 'local') lines.push(`${spec.name} ansible_connection=local ${vars.join(' ')}`);
    else {
      const port = await freePort();
      host.sshPort = port;
      const ssh = [
        `ansible_host=127.0.0.1 ansible_port=${port} ansible_user=${user}`,
        `ansible_ssh_private_key_file=${clientKey}`,
        `ansible_ssh_common_args='-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o ConnectTimeout=5'`,
        'ansible_pipelining=true', // one SSH round trip per task instead of several
      ];
      lines.push(`${spec.name} ${ssh.join(' ')} ${vars.join(' ')}`);
      if (spec.via === 'ssh') {
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'ssh_host_ed25519_key')]);
        writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`), { mode: 0o600 });
        writeFileSync(join(dir, 'sshd_config'), sshdConfig(dir, port));
        writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`, { flag: 'a' });
        const sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        sshd.stderr?.on('data', (d: Buffer) => void (err = (err + d.toString()).slice(-2_000)));
        sshds.push(sshd);
        await listening(port).catch((e: unknown) => {
          throw new Error(`sshd for ${spec.name} did not start: ${(e as Error).message}: ${err}`);
        });
      }
      // 'unreachable': nothing listens on its port.
    }
    for (const g of spec.groups ?? []) groups.set(g, [...(groups.get(g) ?? []), spec.name]);
    hosts[spec.name] = host;
  }
  for (const [g, members] of groups) lines.push(`[${g}]`, ...members);
  const inventory = join(root, 'inventory.ini');
  writeFileSync(inventory, `${lines.join('\n')}\n`);
  // Copied, not linked: the activity refuses a playbook whose real path leaves playbookDir.
  const playbookDir = o.withTestPlaybooks ? join(root, 'playbooks') : SHIPPED_ANSIBLE_DIR;
  if (o.withTestPlaybooks) {
    cpSync(SHIPPED_ANSIBLE_DIR, playbookDir, { recursive: true });
    cpSync(TEST_ANSIBLE_DIR, playbookDir, { recursive: true });
  }
  // ssh's ControlPersist sockets stay in this run's own directory.
  const env = { ANSIBLE_SSH_CONTROL_PATH_DIR: join(root, 'cp'), ANSIBLE_LOCAL_TEMP: join(root, 'tmp') };
  const deps: AnsibleDeps = { ansiblePlaybook: ANSIBLE_PLAYBOOK, playbookDir, inventory, env, heartbeatMs: 1_000 };

  const pidOf = (h: string): number | undefined => {
    const f = join(hosts[h]!.dir, 'run', 'demo.pid');
    return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : undefined;
  };
  const breakService = (h: string): void => {
    const pid = pidOf(h);
    if (!pid) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already down
    }
  };
  return {
    hosts,
    inventory,
    deps,
    env: {
      MEDIC_ANSIBLE_PLAYBOOK_DIR: playbookDir,
      MEDIC_ANSIBLE_INVENTORY: inventory,
      MEDIC_ANSIBLE_PLAYBOOK_BIN: ANSIBLE_PLAYBOOK,
      // the worker process passes these on to ansible (activities/ansible.ts takes PATH, HOME)
    },
    startService(h) {
      const host = hosts[h]!;
      mkdirSync(join(host.dir, 'run'), { recursive: true });
      const port = new URL(host.serviceUrl).port;
      const child = spawn(python, ['-m', 'http.server', port, '--bind', '127.0.0.1', '--directory', join(host.dir, 'www')], { detached: true, stdio: 'ignore' });
      child.unref();
      writeFileSync(join(host.dir, 'run', 'demo.pid'), `${child.pid}\n`);
    },
    breakService,
    async serviceUp(h) {
      return fetch(hosts[h]!.serviceUrl, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.ok,
        () => false,
      );
    },
    runs(h) {
      const f = join(hosts[h]!.dir, 'runs.log');
      return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0;
    },
    release(h) {
      writeFileSync(join(hosts[h]!.dir, 'release'), '');
    },
    markers(h) {
      const dir = join(hosts[h]!.dir, 'markers');
      return existsSync(dir) ? readdirSync(dir) : [];
    },
    async stop() {
      for (const h of Object.keys(hosts)) breakService(h);
      for (const s of sshds) s.kill('SIGTERM');
      await Promise.all(sshds.map((s) => (s.exitCode !== null || s.signalCode !== null ? undefined : new Promise((r) => s.once('exit', r)))));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
