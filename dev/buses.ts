// The real event buses for the bus intake and events-out tests and `npm run bench:storm -- --via`:
// nats-server with JetStream and Apache Kafka in KRaft mode (one broker+controller), provisioned by
// scripts/provision-{nats,kafka}.sh into .cache/. A missing one fails the test; it never skips.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const natsServerPath = (): string => process.env.MEDIC_NATS_SERVER ?? join(ROOT, '.cache/bin/nats-server');
export const kafkaRunClassPath = (): string => process.env.MEDIC_KAFKA_RUN_CLASS ?? join(ROOT, '.cache/bin/kafka-run-class');

export interface BusServer {
  /** nats://127.0.0.1:PORT, or 127.0.0.1:PORT for Kafka. */
  url: string;
  stop(): Promise<void>;
}

function need(bin: string): void {
  if (!existsSync(bin)) throw new Error(`missing ${bin}: run "bash scripts/provision.sh" (npm test does it for you)`);
}

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

/** Spawns a server, keeps the tail of its output, and waits for its port to accept. */
async function serve(what: string, bin: string, args: string[], port: number, dir: string, timeoutMs: number, env: Record<string, string> = {}): Promise<BusServer> {
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_DIR: dir, ...env } });
  let output = '';
  const keep = (d: Buffer): void => void (output = (output + d.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    url: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nats-server with JetStream, its store in a fresh temp dir. */
export async function startNats(timeoutMs = 20_000): Promise<BusServer> {
  const bin = natsServerPath();
  need(bin);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'medic-nats-'));
  const s = await serve('nats-server', bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], port, dir, timeoutMs);
  return { ...s, url: `nats://${s.url}` };
}

/** One Kafka node (broker + KRaft controller), its log dirs in a fresh temp dir. Kafka's JVM takes
 * some seconds of CPU to start: share one per test file. */
export async function startKafka(timeoutMs = 90_000): Promise<BusServer> {
  const bin = kafkaRunClassPath();
  need(bin);
  const [port, controller] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'medic-kafka-'));
  const props = join(dir, 'server.properties');
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=true',
      '',
    ].join('\n'),
  );
  const quick = { ...process.env, MEDIC_KAFKA_JAVA_OPTS: '-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1' };
  const format = spawn(bin, ['kafka.tools.StorageTool', 'format', '-t', 'bWVkaWMtdGVzdC1rYWZrYQ', '-c', props, '--ignore-formatted'], { stdio: ['ignore', 'pipe', 'pipe'], env: quick });
  let out = '';
  format.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  format.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => format.once('exit', r));
  if (code !== 0) throw new Error(`formatting Kafka's storage failed (${code}):\n${out.slice(-3000)}`);
  // Start-up time over peak speed on a small machine: the client compiler only, one GC thread.
  const java = { MEDIC_KAFKA_JAVA_OPTS: process.env.MEDIC_KAFKA_JAVA_OPTS ?? '-Xmx512m -Xms128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1' };
  return serve('kafka', bin, ['kafka.Kafka', props], port, dir, timeoutMs, java);
}
