// The audit key: one secret, kept outside the audit database, from which two keys are derived
// (HKDF-SHA256): the HMAC key that chains the entries, and an Ed25519 key pair that signs the
// exported checkpoints. Auditors verify checkpoints with the public key alone (`medic audit
// public-key`), without being able to write entries or checkpoints. The secret never leaves this
// module: the object holds it in a closure, so logging or serialising it shows only the key id.
import { createHash, createHmac, createPrivateKey, createPublicKey, hkdfSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** At least this many characters of key material (`openssl rand -hex 32` gives 64). */
export const MIN_KEY_LENGTH = 32;

// PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export class AuditKeyError extends Error {}

/** Verifies checkpoint signatures; built from the public key (or from the audit key). */
export interface CheckpointVerifier {
  /** First 16 hex digits of SHA-256 of the raw Ed25519 public key: names the key in logs and checkpoints. */
  readonly id: string;
  verify(data: string, signatureBase64: string): boolean;
}

export interface AuditKey extends CheckpointVerifier {
  /** HMAC-SHA256(mac key, prev + content), hex. */
  mac(prev: string, content: string): string;
  /** Ed25519 signature of `data`, base64. */
  sign(data: string): string;
  /** The checkpoint public key (SPKI PEM), for auditors. */
  readonly publicKeyPem: string;
}

function verifierOf(publicKey: KeyObject): CheckpointVerifier {
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const id = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  return {
    id,
    verify(data, signatureBase64) {
      try {
        return verify(null, Buffer.from(data), publicKey, Buffer.from(signatureBase64, 'base64'));
      } catch {
        return false;
      }
    },
  };
}

/** Derives the chain and checkpoint keys from the key material (a string of ≥ 32 characters). */
export function auditKeyFrom(material: string, source = 'the audit key'): AuditKey {
  if (material.length < MIN_KEY_LENGTH) throw new AuditKeyError(`${source}: must be at least ${MIN_KEY_LENGTH} characters (e.g. openssl rand -hex 32), got ${material.length}`);
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', Buffer.from(material, 'utf8'), Buffer.alloc(0), info, 32));
  const macKey = derive('medic audit chain hmac v1');
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, derive('medic audit checkpoint ed25519 v1')]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const verifier = verifierOf(publicKey);
  const key: AuditKey = {
    ...verifier,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    mac: (prev, content) => createHmac('sha256', macKey).update(prev).update(content).digest('hex'),
    sign: (data) => sign(null, Buffer.from(data), privateKey).toString('base64'),
  };
  // Logged or serialised by mistake, the key shows its id only (the material is in the closure).
  Object.defineProperty(key, 'toJSON', { value: () => ({ auditKeyId: verifier.id }), enumerable: false });
  return key;
}

/** A verifier from a public key file's PEM text. */
export function checkpointVerifierFrom(pem: string, source = 'the public key'): CheckpointVerifier {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new AuditKeyError(`${source}: not a PEM public key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new AuditKeyError(`${source}: must be an Ed25519 public key (medic audit public-key), got ${key.asymmetricKeyType ?? 'unknown'}`);
  return verifierOf(key);
}

/** Reads key material from a file: the file's text without surrounding whitespace. */
export function readAuditKeyFile(path: string, field = 'audit.keyFile'): AuditKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuditKeyError(`${field} (${path}): cannot read the audit key: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return auditKeyFrom(text.trim(), `${field} (${path})`);
}

/** The key from `key` (inline) or `keyFile`, whichever is set; undefined if neither. */
export function loadAuditKey(opts: { key?: string | undefined; keyFile?: string | undefined }): AuditKey | undefined {
  if (opts.key !== undefined) return auditKeyFrom(opts.key.trim(), 'audit.key (MEDIC_AUDIT_KEY)');
  if (opts.keyFile !== undefined) return readAuditKeyFile(opts.keyFile);
  return undefined;
}

/** Demo mode: a key file generated once beside the log (mode 0600) and reused after restarts. */
export function generatedAuditKeyFile(path: string): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return path;
}
