// A TCP proxy in front of a local stand-in that can be taken down and brought back on the same
// port: down = listener closed and open connections reset, so clients see "connection refused"
// exactly as when the real service is unreachable (TLS passes through untouched).
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ToggleProxy {
  port: number;
  /** host:port of the proxy. */
  address: string;
  isUp(): boolean;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startToggleProxy(target: { host: string; port: number }): Promise<ToggleProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.once('close', () => sockets.delete(sock));
          sock.on('error', () => undefined); // resets are the point of this proxy
        }
        client.pipe(upstream).pipe(client);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const a = s.address();
        port = typeof a === 'object' && a ? a.port : port;
        server = s;
        resolve();
      });
    });
  const down = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    for (const sock of sockets) sock.resetAndDestroy();
    await closed;
  };
  await listen();
  return {
    port,
    address: `127.0.0.1:${port}`,
    isUp: () => server !== undefined,
    down,
    up: async () => {
      if (!server) await listen();
    },
    close: down,
  };
}
