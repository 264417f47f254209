// Socket Mode on the stand-in: apps.connections.open hands out a ws:// URL on the stand-in's own
// port; a connected app gets "hello", then envelopes (interactive, slash_commands, events_api)
// that it must acknowledge with their envelope_id (and, for interactions, a response payload).
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';

export type EnvelopeType = 'interactive' | 'slash_commands' | 'events_api';

export function socketModeServer(app: FastifyInstance) {
  const wss = new WebSocketServer({ noServer: true });
  const clients = new Set<WebSocket>();
  const pending = new Map<string, (payload: unknown) => void>();
  let n = 0;
  app.server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/socket-mode')) return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('message', (data) => {
        try {
          const m = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
          if (m.envelope_id) pending.get(m.envelope_id)?.(m.payload ?? '');
        } catch {
          // not an ack: ignore, as Slack does
        }
      });
      ws.send(JSON.stringify({ type: 'hello', num_connections: clients.size, connection_info: { app_id: 'A0MEDIC' }, debug_info: { host: 'stand-in', approximate_connection_time: 3600 } }));
    });
  });

  /** Sends one envelope to a connected app; resolves with its ack (or not, after 3 s). */
  async function deliver(type: EnvelopeType, payload: unknown): Promise<{ acked: boolean; payload: unknown }> {
    const ws = [...clients].at(-1);
    if (!ws) throw new Error('no Socket Mode connection');
    const id = `env-${Date.now()}-${++n}`;
    const acked = new Promise<unknown>((r) => pending.set(id, r));
    ws.send(JSON.stringify({ envelope_id: id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '' }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 3_000)));
    const r = await Promise.race([acked, timeout]);
    clearTimeout(timer);
    pending.delete(id);
    return r === 'timeout' ? { acked: false, payload: undefined } : { acked: true, payload: r };
  }

  return {
    deliver,
    connected: (): boolean => clients.size > 0,
    close(): void {
      for (const c of clients) c.terminate();
      wss.close();
    },
  };
}
export type SocketModeServer = ReturnType<typeof socketModeServer>;
