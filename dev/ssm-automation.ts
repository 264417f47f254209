// TEST ENDPOINT — not AWS, not moto. An SSM-compatible HTTP endpoint that implements only the two
// Automation calls moto 5.2.5 lacks, StartAutomationExecution and GetAutomationExecution (AWS JSON
// 1.1, as @aws-sdk/client-ssm speaks it), and forwards every other SSM call (GetDocument,
// SendCommand, ListCommands, …) unchanged to moto, which stays the real part for Run Command.
//
// ClientToken is honoured as AWS documents it: a UUID (else ValidationException); the same token
// with the same request answers the execution it already started instead of starting another;
// the same token with a different request is IdempotentParameterMismatch. The runbook must exist
// in moto (read through GetDocument). An execution is InProgress for `runMs`, then Success: no
// runbook step really runs. Used by tests only; never loaded in production mode.
import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AutomationExecution {
  id: string;
  clientToken?: string;
  documentName: string;
  documentVersion?: string;
  parameters: Record<string, string[]>;
  startedAt: number;
  /** Requests that asked for it (1 + the repeats answered from the ClientToken). */
  requests: number;
}

export interface SsmAutomationEndpoint {
  url: string;
  /** Every execution started, oldest first. */
  executions: AutomationExecution[];
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JSON_11 = 'application/x-amz-json-1.1';

class SsmError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const sameRequest = (e: AutomationExecution, documentName: string, version: string | undefined, parameters: Record<string, string[]>): boolean =>
  e.documentName === documentName && e.documentVersion === version && JSON.stringify(e.parameters) === JSON.stringify(parameters);

export async function startSsmAutomationEndpoint(o: { moto: string; runMs?: number; port?: number }): Promise<SsmAutomationEndpoint> {
  const moto = new URL(o.moto);
  const runMs = o.runMs ?? 1_000;
  const executions: AutomationExecution[] = [];

  /** The request as received, sent on to moto; its answer goes back unchanged. */
  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse): void => {
    const up = request({ host: moto.hostname, port: moto.port, path: req.url, method: req.method, headers: { ...req.headers, host: moto.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (err) => res.writeHead(502, { 'content-type': 'text/plain' }).end(`moto unreachable: ${err.message}`));
    up.end(body);
  };

  /** GetDocument at moto, with the caller's signed headers re-targeted: does the runbook exist? */
  const documentExists = (req: IncomingMessage, name: string): Promise<boolean> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ Name: name });
      const headers = { ...req.headers, host: moto.host, 'x-amz-target': 'AmazonSSM.GetDocument', 'content-length': String(Buffer.byteLength(body)) };
      const up = request({ host: moto.hostname, port: moto.port, path: '/', method: 'POST', headers }, (r) => {
        r.resume();
        resolve((r.statusCode ?? 500) < 300);
      });
      up.on('error', reject);
      up.end(body);
    });

  async function start(req: IncomingMessage, input: Record<string, unknown>): Promise<unknown> {
    const documentName = typeof input.DocumentName === 'string' ? input.DocumentName : '';
    if (!documentName) throw new SsmError('ValidationException', 'DocumentName is required');
    const version = typeof input.DocumentVersion === 'string' ? input.DocumentVersion : undefined;
    const parameters = (input.Parameters ?? {}) as Record<string, string[]>;
    const token = typeof input.ClientToken === 'string' ? input.ClientToken.toLowerCase() : undefined;
    if (token !== undefined && !UUID.test(token)) throw new SsmError('ValidationException', `ClientToken ${JSON.stringify(input.ClientToken)} is not a UUID`);
    const earlier = token !== undefined ? executions.find((e) => e.clientToken === token) : undefined;
    if (earlier) {
      if (!sameRequest(earlier, documentName, version, parameters)) {
        throw new SsmError('IdempotentParameterMismatch', `ClientToken ${token} was used with different parameters`);
      }
      earlier.requests += 1;
      return { AutomationExecutionId: earlier.id };
    }
    if (!(await documentExists(req, documentName))) throw new SsmError('AutomationDefinitionNotFoundException', `Automation document ${documentName} not found`);
    const e: AutomationExecution = { id: randomUUID(), documentName, parameters, startedAt: Date.now(), requests: 1, ...(token ? { clientToken: token } : {}), ...(version ? { documentVersion: version } : {}) };
    executions.push(e);
    return { AutomationExecutionId: e.id };
  }

  function get(input: Record<string, unknown>): unknown {
    const e = executions.find((x) => x.id === input.AutomationExecutionId);
    if (!e) throw new SsmError('AutomationExecutionNotFoundException', `no automation execution ${String(input.AutomationExecutionId)}`);
    const done = Date.now() - e.startedAt >= runMs;
    return {
      AutomationExecution: {
        AutomationExecutionId: e.id,
        DocumentName: e.documentName,
        ...(e.documentVersion ? { DocumentVersion: e.documentVersion } : {}),
        AutomationExecutionStatus: done ? 'Success' : 'InProgress',
        ExecutionStartTime: e.startedAt / 1000,
        ...(done ? { ExecutionEndTime: (e.startedAt + runMs) / 1000 } : {}),
        Parameters: e.parameters,
        Outputs: {},
        StepExecutions: [],
        Mode: 'Auto',
      },
    };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'AmazonSSM.StartAutomationExecution' && target !== 'AmazonSSM.GetAutomationExecution') return forward(req, body, res);
      const reply = (status: number, payload: unknown, errorType?: string): void => {
        res.writeHead(status, { 'content-type': JSON_11, ...(errorType ? { 'x-amzn-errortype': errorType } : {}) }).end(JSON.stringify(payload));
      };
      void (async () => {
        const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
        reply(200, target === 'AmazonSSM.StartAutomationExecution' ? await start(req, input) : get(input));
      })().catch((err: unknown) => {
        if (err instanceof SsmError) reply(400, { __type: err.type, message: err.message }, err.type);
        else reply(500, { __type: 'InternalServerError', message: (err as Error).message }, 'InternalServerError');
      });
    });
  });
  await new Promise<void>((r) => server.listen(o.port ?? 0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    executions,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
