// Temporal TLS / mTLS / API key settings: parsed from env and YAML by the config schema, checked
// for pairs that only work together, and read from files at start with every problem listed.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { connectOptions } from '../../src/temporal/connect.js';
import { readTemporalAuth } from '../../src/temporal/tls-config.js';

const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
let dir: string;
const f = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medic-temporal-auth-'));
  await Promise.all([
    writeFile(f('ca.pem'), PEM_CERT),
    writeFile(f('client.pem'), PEM_CERT),
    writeFile(f('client.key'), PEM_KEY),
    writeFile(f('api-key'), 'sekret-api-key-0123456789\n'),
    writeFile(f('empty'), ''),
  ]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
};

describe('temporal.tls / apiKey in the config', () => {
  it('absent: plaintext, no API key (unchanged defaults)', () => {
    const c = loadConfig({});
    expect(c.temporal.tls).toBeUndefined();
    expect(connectOptions(c)).toEqual({ address: 'localhost:7233' });
  });

  it('from environment variables: every file and the server name', () => {
    const c = loadConfig({
      MEDIC_TEMPORAL_ADDRESS: 'temporal.example.com:7233',
      MEDIC_TEMPORAL_TLS_CA_FILE: f('ca.pem'),
      MEDIC_TEMPORAL_TLS_CERT_FILE: f('client.pem'),
      MEDIC_TEMPORAL_TLS_KEY_FILE: f('client.key'),
      MEDIC_TEMPORAL_TLS_SERVER_NAME: 'frontend.internal',
      MEDIC_TEMPORAL_API_KEY_FILE: f('api-key'),
    });
    expect(c.temporal.tls).toEqual({ enabled: true, caFile: f('ca.pem'), certFile: f('client.pem'), keyFile: f('client.key'), serverName: 'frontend.internal' });
    const o = connectOptions(c);
    expect(o.address).toBe('temporal.example.com:7233');
    expect(o.apiKey).toBe('sekret-api-key-0123456789'); // trailing newline of the file dropped
    expect(o.tls).toMatchObject({ serverNameOverride: 'frontend.internal' });
    const tls = o.tls as { serverRootCACertificate: Buffer; clientCertPair: { crt: Buffer; key: Buffer } };
    expect(tls.serverRootCACertificate.toString()).toBe(PEM_CERT);
    expect(tls.clientCertPair.crt.toString()).toBe(PEM_CERT);
    expect(tls.clientCertPair.key.toString()).toBe(PEM_KEY);
  });

  it('MEDIC_TEMPORAL_TLS=true alone: TLS with the system roots; an API key alone leaves TLS to the SDK (on)', () => {
    expect(connectOptions(loadConfig({ MEDIC_TEMPORAL_TLS: 'true' })).tls).toEqual({});
    const keyOnly = connectOptions(loadConfig({ MEDIC_TEMPORAL_API_KEY: 'k-0123456789' }));
    expect(keyOnly).toEqual({ address: 'localhost:7233', apiKey: 'k-0123456789' });
    // explicitly plaintext with a key (e.g. a mesh sidecar terminates TLS)
    expect(connectOptions(loadConfig({ MEDIC_TEMPORAL_TLS: 'false', MEDIC_TEMPORAL_API_KEY: 'k-0123456789' })).tls).toBe(false);
  });

  it('a certificate without its key (and the reverse) is a config error naming what is missing', () => {
    expect(problems({ MEDIC_TEMPORAL_TLS_CERT_FILE: f('client.pem') })).toEqual(['temporal.tls.keyFile: mTLS needs certFile and keyFile together; keyFile is missing']);
    expect(problems({ MEDIC_TEMPORAL_TLS_KEY_FILE: f('client.key') })).toEqual(['temporal.tls.certFile: mTLS needs certFile and keyFile together; certFile is missing']);
  });

  it('two sources for the API key, or TLS off with TLS files: config errors', () => {
    expect(problems({ MEDIC_TEMPORAL_API_KEY: 'k-0123456789', MEDIC_TEMPORAL_API_KEY_FILE: f('api-key') })).toEqual(['temporal.apiKeyFile: set apiKey or apiKeyFile, not both']);
    expect(problems({ MEDIC_TEMPORAL_TLS: 'false', MEDIC_TEMPORAL_TLS_CA_FILE: f('ca.pem') })).toEqual([
      'temporal.tls.enabled: TLS is disabled, so caFile would be ignored; remove them or enable TLS',
    ]);
    expect(problems({ MEDIC_TEMPORAL_TLS: 'maybe' })[0]).toMatch(/^temporal\.tls\.enabled: /);
  });

  it('unreadable, empty or non-PEM files: every problem listed at start, no content echoed', () => {
    const r = readTemporalAuth({
      address: 'x:7233',
      tls: { enabled: true, caFile: f('missing-ca.pem'), certFile: f('client.key'), keyFile: f('client.pem') },
      apiKeyFile: f('empty'),
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems).toEqual([
      `temporal.tls.caFile: cannot read ${f('missing-ca.pem')} (ENOENT)`,
      `temporal.tls.certFile: ${f('client.key')} holds no PEM certificate`,
      `temporal.tls.keyFile: ${f('client.pem')} holds no PEM private key`,
      `temporal.apiKeyFile: ${f('empty')} is empty`,
    ]);
    expect(JSON.stringify(r)).not.toContain('MIIE'); // key material never in a message
    // connectOptions (used by connectClient / connectWorker) turns them into a ConfigError
    expect(() => connectOptions(loadConfig({ MEDIC_TEMPORAL_API_KEY_FILE: f('nope') }))).toThrow(ConfigError);
  });

  it('from the YAML config file', async () => {
    const path = f('medic.yaml');
    await writeFile(path, `temporal:\n  address: t:7233\n  tls:\n    caFile: ${f('ca.pem')}\n  apiKeyFile: ${f('api-key')}\n`);
    const c = loadConfig({ MEDIC_CONFIG: path });
    expect(c.temporal).toMatchObject({ address: 't:7233', tls: { enabled: true, caFile: f('ca.pem') }, apiKeyFile: f('api-key') });
  });
});
