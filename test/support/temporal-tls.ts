// A TLS-terminating front for the Temporal dev server (which speaks plaintext only), as a real
// deployment's frontend or auth proxy would be: mTLS with a throwaway CA (client certificates
// required and verified), ALPN h2, and an optional API-key check on every gRPC call's
// `authorization` header (refused calls get UNAUTHENTICATED, as Temporal Cloud answers). HTTP/2
// is terminated here and each stream proxied to the dev server's plaintext port, so the headers
// medic sends are seen. Certificates are made with the openssl CLI (Node cannot sign X.509).
import { readFile } from 'node:fs/promises';
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { makeCa, makeLeaf } from '../../dev/pki.js';

export interface TemporalPki {
  dir: string;
  /** The CA the frontend's certificate and medic's client certificate chain to. */
  caPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  /** medic's client certificate (CN medic), signed by the CA. */
  clientCertPath: string;
  clientKeyPath: string;
  /** Another CA and a client certificate from it: trusted by nobody here. */
  rogueCaPath: string;
  rogueCertPath: string;
  rogueKeyPath: string;
  /** The name in the frontend's certificate (medic sets it as temporal.tls.serverName). */
  serverName: string;
}

export async function makeTemporalPki(dir: string): Promise<TemporalPki> {
  const serverName = 'temporal.medic.test';
  await Promise.all([makeCa(dir, 'ca', 'medic test Temporal CA'), makeCa(dir, 'rogue-ca', 'rogue CA')]);
  await Promise.all([
    makeLeaf(dir, 'server', 'ca', serverName, `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth`),
    makeLeaf(dir, 'client', 'ca', 'medic', 'extendedKeyUsage=clientAuth'),
    makeLeaf(dir, 'rogue', 'rogue-ca', 'medic', 'extendedKeyUsage=clientAuth'),
  ]);
  const p = (f: string): string => join(dir, f);
  return {
    dir,
    caPath: p('ca.crt'),
    serverCertPath: p('server.crt'),
    serverKeyPath: p('server.key'),
    clientCertPath: p('client.crt'),
    clientKeyPath: p('client.key'),
    rogueCaPath: p('rogue-ca.crt'),
    rogueCertPath: p('rogue.crt'),
    rogueKeyPath: p('rogue.key'),
    serverName,
  };
}

export interface TlsFront {
  address: string;
  /** gRPC calls proxied, by whether they carried `authorization: Bearer <apiKey>` and the peer's CN. */
  calls: { path: string; authorization: string | undefined; peer: string | undefined }[];
  /** TLS handshakes the front refused (no or untrusted client certificate). */
  refusedHandshakes: number;
  close(): Promise<void>;
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);
function forwardable(h: IncomingHttpHeaders, pseudo: string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP.has(k) || (k.startsWith(':') && !pseudo.includes(k))) continue;
    out[k] = v;
  }
  return out;
}

/** Listens on 127.0.0.1 and proxies to `target` (the dev server's plaintext host:port). */
export async function startTlsFront(o: { target: string; pki: TemporalPki; apiKey?: string }): Promise<TlsFront> {
  const [key, cert, ca] = await Promise.all([readFile(o.pki.serverKeyPath), readFile(o.pki.serverCertPath), readFile(o.pki.caPath)]);
  const upstream = http2.connect(`http://${o.target}`);
  upstream.on('error', () => undefined); // a dev server going away ends the test anyway
  const front: TlsFront = { address: '', calls: [], refusedHandshakes: 0, close: async () => undefined };
  const server = http2.createSecureServer({ key, cert, ca, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'], allowHTTP1: false });
  server.on('tlsClientError', () => void (front.refusedHandshakes += 1));
  server.on('stream', (stream, headers) => {
    const socket = stream.session?.socket as TLSSocket | undefined;
    const peer = socket?.getPeerCertificate?.()?.subject?.CN;
    const authorization = headers.authorization;
    front.calls.push({ path: String(headers[':path']), authorization, peer: typeof peer === 'string' ? peer : undefined });
    if (o.apiKey !== undefined && authorization !== `Bearer ${o.apiKey}`) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'missing or wrong API key' }, { endStream: true });
      return;
    }
    const req = upstream.request(forwardable(headers, [':method', ':path', ':scheme', ':authority']));
    let trailers: OutgoingHttpHeaders = {};
    req.on('response', (h) => {
      if (stream.destroyed) return;
      if (h['grpc-status'] !== undefined) {
        stream.respond(forwardable(h, [':status']), { endStream: true }); // a trailers-only answer
        return;
      }
      stream.respond(forwardable(h, [':status']), { waitForTrailers: true });
      req.pipe(stream);
    });
    req.on('trailers', (t) => void (trailers = forwardable(t, [])));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.pipe(req);
    const abort = (): void => {
      if (!req.destroyed) req.close(http2.constants.NGHTTP2_CANCEL);
    };
    stream.on('close', abort);
    stream.on('error', abort);
    req.on('error', () => {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  front.close = async () => {
    for (const s of sessions) s.destroy();
    upstream.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return front;
}
