// Throwaway X.509 material for the stand-ins and the test harness (PagerDuty stand-in's HTTPS,
// the test kube-apiserver, the Temporal TLS front): a CA and leaf certificates signed by it, EC
// P-256 (milliseconds to make), valid for 2 days. Made with the openssl CLI because Node's
// crypto can create keys but cannot sign certificates.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Runs openssl in cwd; a missing CLI is reported as what `user` needs, a failure with its stderr. */
export async function openssl(args: string[], cwd: string, user = 'this'): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error(`${user} needs the openssl CLI (apt-get install openssl)`);
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

/** A self-signed CA in dir: `<name>.crt` and `<name>.key`. */
export async function makeCa(dir: string, name: string, cn: string, user?: string): Promise<void> {
  await openssl(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir, user);
}

/** A leaf certificate `<name>.crt`/`<name>.key` signed by the CA `<signer>.crt`; `ext` adds
 * extension lines (subjectAltName, extendedKeyUsage). */
export async function makeLeaf(dir: string, name: string, signer: string, cn: string, ext: string, user?: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n${ext}\n`);
  await openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir, user);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.crt`, '-CAkey', `${signer}.key`,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir, user);
}
