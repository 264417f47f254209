// A throwaway certificate authority and a localhost server certificate for the PagerDuty
// stand-in, made with the openssl CLI (Node's crypto can create keys but cannot sign X.509
// certificates). Processes trust the CA through NODE_EXTRA_CA_CERTS=<caPath> (read at start),
// or an https.Agent built with `ca`.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, makeLeaf } from '../pki.js';

export interface DevCertificates {
  dir: string;
  /** PEM file of the CA: the value for NODE_EXTRA_CA_CERTS. */
  caPath: string;
  ca: string;
  cert: string;
  key: string;
}

/** Generates a CA and a certificate for localhost / 127.0.0.1 signed by it, valid for 2 days. */
export async function makeDevCertificates(dir?: string): Promise<DevCertificates> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'medic-pd-tls-')));
  const user = 'the PagerDuty stand-in';
  await makeCa(d, 'ca', 'medic dev CA', user);
  await makeLeaf(d, 'server', 'ca', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth', user);
  const [ca, cert, key] = await Promise.all(['ca.crt', 'server.crt', 'server.key'].map((f) => readFile(join(d, f), 'utf8')));
  return { dir: d, caPath: join(d, 'ca.crt'), ca: ca!, cert: cert!, key: key! };
}
