// A throwaway certificate authority and a localhost server certificate for the PagerDuty
// stand-in, made with the openssl CLI (Node's crypto can create keys but cannot sign X.509
// certificates). Processes trust the CA through NODE_EXTRA_CA_CERTS=<caPath> (read at start),
// or an https.Agent built with `ca`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DevCertificates {
  dir: string;
  /** PEM file of the CA: the value for NODE_EXTRA_CA_CERTS. */
  caPath: string;
  ca: string;
  cert: string;
  key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('the PagerDuty stand-in needs the openssl CLI (apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

/** Generates a CA and a certificate for localhost / 127.0.0.1 signed by it, valid for 2 days. */
export async function makeDevCertificates(dir?: string): Promise<DevCertificates> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'medic-pd-tls-')));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=medic dev CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    d,
  );
  await openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], d);
  await writeFile(
    join(d, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  await openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext'],
    d,
  );
  const [ca, cert, key] = await Promise.all(['ca.pem', 'server.pem', 'server.key'].map((f) => readFile(join(d, f), 'utf8')));
  return { dir: d, caPath: join(d, 'ca.pem'), ca: ca!, cert: cert!, key: key! };
}
