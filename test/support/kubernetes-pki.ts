// Throwaway PKI for a test control plane: a CA, the kube-apiserver's serving certificate signed
// by it (so clients verify TLS against the CA instead of skipping verification), and the
// ServiceAccount token signing key. EC P-256 throughout: key generation takes milliseconds.
// Certificates from dev/pki.ts (openssl CLI), the signing key from node:crypto.
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeCa, makeLeaf } from '../../dev/pki.js';

export interface KubePki {
  /** PEM of the CA that signed the serving certificate (what clients trust). */
  ca: string;
  caPath: string;
  servingCertPath: string;
  servingKeyPath: string;
  /** ServiceAccount token signing key (private, PKCS#8 PEM) and its public half. */
  saKeyPath: string;
  saPubPath: string;
}

/** The names in-cluster clients and local ones use for the API server. */
const SERVING_SANS = [
  'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local', 'IP:127.0.0.1', 'IP:10.96.0.1',
];

/** Writes the whole PKI into dir (valid for 2 days). */
export async function makeKubePki(dir: string): Promise<KubePki> {
  const user = 'the Kubernetes test cluster';
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await Promise.all([
    writeFile(join(dir, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 }),
    writeFile(join(dir, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' })),
    makeCa(dir, 'ca', 'medic test kubernetes CA', user),
  ]);
  await makeLeaf(dir, 'serving', 'ca', 'kube-apiserver', `subjectAltName=${SERVING_SANS.join(',')}\nextendedKeyUsage=serverAuth`, user);
  return {
    ca: await readFile(join(dir, 'ca.crt'), 'utf8'),
    caPath: join(dir, 'ca.crt'),
    servingCertPath: join(dir, 'serving.crt'),
    servingKeyPath: join(dir, 'serving.key'),
    saKeyPath: join(dir, 'sa.key'),
    saPubPath: join(dir, 'sa.pub'),
  };
}
