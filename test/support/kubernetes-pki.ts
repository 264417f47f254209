// Throwaway PKI for a test control plane: a CA, the kube-apiserver's serving certificate signed
// by it (so clients verify TLS against the CA instead of skipping verification), and the
// ServiceAccount token signing key. EC P-256 throughout: key generation takes milliseconds.
// openssl CLI for the certificates (Node's crypto cannot sign X.509), node:crypto for the key.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

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

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('the Kubernetes test cluster needs the openssl CLI (apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

/** The names in-cluster clients and local ones use for the API server. */
const SERVING_SANS = [
  'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local', 'IP:127.0.0.1', 'IP:10.96.0.1',
];

/** Writes the whole PKI into dir (valid for 2 days). */
export async function makeKubePki(dir: string): Promise<KubePki> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await Promise.all([
    writeFile(join(dir, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 }),
    writeFile(join(dir, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' })),
    writeFile(
      join(dir, 'serving.ext'),
      `subjectAltName=${SERVING_SANS.join(',')}\nbasicConstraints=CA:FALSE\n` +
        'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
    ),
    openssl(
      ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=medic test kubernetes CA',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      dir,
    ),
    openssl(['req', ...ec, '-keyout', 'serving.key', '-out', 'serving.csr', '-subj', '/CN=kube-apiserver'], dir),
  ]);
  await openssl(
    ['x509', '-req', '-in', 'serving.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-out', 'serving.crt', '-days', '2', '-extfile', 'serving.ext'],
    dir,
  );
  return {
    ca: await readFile(join(dir, 'ca.crt'), 'utf8'),
    caPath: join(dir, 'ca.crt'),
    servingCertPath: join(dir, 'serving.crt'),
    servingKeyPath: join(dir, 'serving.key'),
    saKeyPath: join(dir, 'sa.key'),
    saPubPath: join(dir, 'sa.pub'),
  };
}
