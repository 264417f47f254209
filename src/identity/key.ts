// The identity key (src/identity/sign.ts) from the config: `identityKey` (env MEDIC_IDENTITY_KEY)
// or `identityKeyFile` (a mounted secret). Production needs one, shared by the server and the
// worker; demo mode (app and worker in one process) makes a random one per process.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, type Config } from '../config.js';

let demoKey: Buffer | undefined;

/** The configured key, or undefined when none is configured (and not demo mode). */
export function configuredIdentityKey(config: Config): Buffer | undefined {
  if (config.identityKey) return Buffer.from(config.identityKey, 'utf8');
  if (config.identityKeyFile) {
    let text: string;
    try {
      text = readFileSync(config.identityKeyFile, 'utf8').trim();
    } catch (err) {
      throw new ConfigError([`identityKeyFile: cannot read ${config.identityKeyFile}: ${(err as Error).message}`]);
    }
    if (text.length < 32) throw new ConfigError([`identityKeyFile: ${config.identityKeyFile} must hold at least 32 characters`]);
    return Buffer.from(text, 'utf8');
  }
  if (config.mode === 'demo') return (demoKey ??= randomBytes(32));
  return undefined;
}

/** The key the server and the worker need at start: production without one is refused. */
export function identityKeyOf(config: Config): Buffer {
  const key = configuredIdentityKey(config);
  if (!key) {
    throw new ConfigError([
      'identityKey: required (set MEDIC_IDENTITY_KEY or identityKeyFile, the same on the server and the worker): it signs who approved, took or resolved an incident',
    ]);
  }
  return key;
}
