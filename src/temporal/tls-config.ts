// How medic authenticates to Temporal: TLS (server CA, server name), mTLS (client certificate and
// key) and an API key (sent as `authorization: Bearer …`). Secrets are named by file path so they
// stay out of environment dumps and the config; the files are read once, at start, and a missing
// or unreadable one stops the process with every problem listed.
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow/tls-config.js';
import { z } from 'zod';

const boolish = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean()); // env: "true"/"false"
const File = z.string().min(1);

export const TemporalTlsSchema = z
  .strictObject({
    enabled: boolish.default(true).describe('TLS to the Temporal frontend (on when this section is present; false = plaintext)'),
    caFile: File.optional().describe('PEM file of the CA that signed the frontend\'s certificate (default: the system roots)'),
    certFile: File.optional().describe('mTLS: PEM client certificate medic presents (with keyFile)'),
    keyFile: File.optional().describe('mTLS: PEM private key of certFile (with certFile)'),
    serverName: z.string().min(1).optional().describe('Name to verify the frontend\'s certificate against (SNI), when it differs from the address\'s host'),
  })
  .superRefine((t, ctx) => {
    if ((t.certFile === undefined) !== (t.keyFile === undefined)) {
      const missing = t.certFile === undefined ? 'certFile' : 'keyFile';
      ctx.addIssue({ code: 'custom', path: [missing], message: `mTLS needs certFile and keyFile together; ${missing} is missing` });
    }
    if (!t.enabled) {
      const set = (['caFile', 'certFile', 'keyFile', 'serverName'] as const).filter((k) => t[k] !== undefined);
      if (set.length > 0) ctx.addIssue({ code: 'custom', path: ['enabled'], message: `TLS is disabled, so ${set.join(', ')} would be ignored; remove them or enable TLS` });
    }
  });

/** The auth members of the `temporal` config section (src/config.ts spreads them in). */
export const TemporalAuthShape = {
  tls: TemporalTlsSchema.optional().describe('TLS / mTLS to the Temporal frontend. Absent: plaintext (unless an API key is set, which implies TLS)'),
  apiKey: z.string().min(1).optional().describe('API key sent as `authorization: Bearer …` (Temporal Cloud, an auth proxy); prefer apiKeyFile, which keeps it out of the environment'),
  apiKeyFile: File.optional().describe('File holding the API key (e.g. a mounted Secret); read at start'),
};

/** The refinement on the `temporal` section: one source for the API key. */
export function checkTemporalAuth(t: { apiKey?: string | undefined; apiKeyFile?: string | undefined }, ctx: z.RefinementCtx): void {
  if (t.apiKey !== undefined && t.apiKeyFile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['apiKeyFile'], message: 'set apiKey or apiKeyFile, not both' });
  }
}

export interface TemporalAuthConfig {
  address: string;
  tls?: z.infer<typeof TemporalTlsSchema> | undefined;
  apiKey?: string | undefined;
  apiKeyFile?: string | undefined;
}

/** What Connection.connect and NativeConnection.connect take (the SDK's own option names). */
export interface TemporalConnectOptions {
  address: string;
  /** false: plaintext, even with an API key. */
  tls?: TLSConfig | false;
  apiKey?: string;
}

/** Reads the certificate, key and API key files: the options, or every file that cannot be used
 * (nothing of their content appears in a problem). */
export function readTemporalAuth(
  t: TemporalAuthConfig,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): { ok: true; options: TemporalConnectOptions } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const file = (field: string, path: string | undefined, pem?: { re: RegExp; what: string }): string | undefined => {
    if (path === undefined) return undefined;
    let text: string;
    try {
      text = read(path);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      problems.push(`temporal.${field}: cannot read ${path} (${e.code ?? e.message})`);
      return undefined;
    }
    if (text.trim() === '') problems.push(`temporal.${field}: ${path} is empty`);
    else if (pem && !pem.re.test(text)) problems.push(`temporal.${field}: ${path} holds no PEM ${pem.what}`);
    return text;
  };
  const CERT = { re: /-----BEGIN CERTIFICATE-----/, what: 'certificate' };
  const KEY = { re: /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/, what: 'private key' };
  const ca = file('tls.caFile', t.tls?.caFile, CERT);
  const crt = file('tls.certFile', t.tls?.certFile, CERT);
  const key = file('tls.keyFile', t.tls?.keyFile, KEY);
  const apiKey = t.apiKey ?? file('apiKeyFile', t.apiKeyFile)?.trim();
  if (problems.length > 0) return { ok: false, problems };
  const tls: TLSConfig | false | undefined = !t.tls
    ? undefined // the SDK turns TLS on by itself when an API key is set
    : !t.tls.enabled
      ? false
      : {
          ...(t.tls.serverName ? { serverNameOverride: t.tls.serverName } : {}),
          ...(ca ? { serverRootCACertificate: Buffer.from(ca) } : {}),
          ...(crt && key ? { clientCertPair: { crt: Buffer.from(crt), key: Buffer.from(key) } } : {}),
        };
  return { ok: true, options: { address: t.address, ...(tls !== undefined ? { tls } : {}), ...(apiKey ? { apiKey } : {}) } };
}
