// The OPA policy gate's one activity: evaluate the gate's decision rule against an OPA server
// (REST Data API, POST /v1/data/<path>) or in process, from a bundle `opa build -t wasm` made
// (@open-policy-agent/opa-wasm). It never throws for OPA's sake: a down or slow OPA is
// "unavailable", a policy that does not load or compile and an answer of the wrong shape are
// "invalid", each with a reason naming the server/file and the field; the decision core applies
// the gate's error rule (src/policy/opa.ts). Every call has the gate's deadline.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { parseTarGzip } from 'nanotar';
import { parsePolicyAnswer, type PolicyGate, type PolicyInput, type PolicyResult } from '../src/policy/opa.js';

/** Why OPA gave no answer: `unavailable` (down, slow) or `invalid` (the policy or its answer is broken). */
export class OpaError extends Error {
  constructor(
    readonly kind: 'unavailable' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

/** One way to evaluate a rule: its value (undefined when no policy defines it) and the policy's hash. */
export interface OpaBackend {
  readonly name: 'server' | 'wasm';
  /** Where the answer came from, for error messages (the server's URL, the bundle's path). */
  readonly where: (path: string) => string;
  evaluate(path: string, input: PolicyInput, signal: AbortSignal): Promise<{ value: unknown; hash?: string }>;
}

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const reasonOf = (err: unknown): string => {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer before the deadline';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
};

/** An OPA server: the rule's value from the Data API; the hash is over the server's policy
 * modules (GET /v1/policies: id and source of each, sorted by id). */
export function opaServer(o: { url: string; fetch?: typeof globalThis.fetch }): OpaBackend {
  const base = o.url.replace(/\/+$/, '');
  const http = o.fetch ?? globalThis.fetch;
  const where = (path: string): string => `OPA server ${base}, rule data.${path.replaceAll('/', '.')}`;
  const call = async (what: string, url: string, init: RequestInit): Promise<unknown> => {
    let res: Response;
    try {
      res = await http(url, init);
    } catch (err) {
      throw new OpaError('unavailable', `${what}: ${reasonOf(err)}`);
    }
    const text = await res.text().catch((err: unknown) => {
      throw new OpaError('unavailable', `${what}: ${reasonOf(err)}`);
    });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OpaError(res.ok ? 'invalid' : 'unavailable', `${what}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      // OPA's own error document (code, message): the policy failed at evaluation (conflicting
      // outputs, a built-in error): a broken policy. Anything else (a proxy's 502) is an outage.
      const e = body as { code?: unknown; message?: unknown };
      if (typeof e.code === 'string' && typeof e.message === 'string' && res.status < 502) throw new OpaError('invalid', `${what}: HTTP ${res.status} ${e.code}: ${e.message}`);
      throw new OpaError('unavailable', `${what}: HTTP ${res.status}`);
    }
    return body;
  };
  return {
    name: 'server',
    where,
    async evaluate(path, input, signal) {
      const [data, policies] = await Promise.all([
        call(where(path), `${base}/v1/data/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }), signal }),
        // The hash is for the record: a server that does not list its policies still decides.
        call(`OPA server ${base}, policy list`, `${base}/v1/policies`, { signal }).catch(() => undefined),
      ]);
      const list = (policies as { result?: { id: string; raw: string }[] } | undefined)?.result;
      const hash = Array.isArray(list) ? sha256([...list].sort((a, b) => (a.id < b.id ? -1 : 1)).map((p) => `${p.id}\0${p.raw}\0`).join('')) : undefined;
      return { value: (data as { result?: unknown }).result, ...(hash ? { hash } : {}) };
    },
  };
}

type Loaded = Awaited<ReturnType<typeof loadPolicy>>;

/** A bundle from `opa build -t wasm -e <path>…`: /policy.wasm and /data.json, loaded in process
 * (re-read on every decision; loaded again only when its content changed). The hash is the
 * bundle file's sha256. */
export function opaWasm(o: { bundle: string }): OpaBackend {
  let cache: { hash: string; policy: Loaded } | undefined;
  const where = (path: string): string => `policy bundle ${o.bundle}, entrypoint ${path}`;
  const load = async (bytes: Buffer, hash: string): Promise<Loaded> => {
    if (cache?.hash === hash) return cache.policy;
    let files: { name: string; data?: Uint8Array }[];
    try {
      files = await parseTarGzip(bytes);
    } catch (err) {
      throw new OpaError('invalid', `policy bundle ${o.bundle} is not a bundle (tar.gz) from opa build -t wasm: ${reasonOf(err)}`);
    }
    const file = (name: string): Uint8Array | undefined => files.find((f) => f.name.replace(/^\//, '') === name)?.data;
    const wasm = file('policy.wasm');
    if (!wasm) throw new OpaError('invalid', `policy bundle ${o.bundle} has no /policy.wasm: build it with opa build -t wasm -e <path>`);
    let policy: Loaded;
    try {
      policy = await loadPolicy(wasm);
    } catch (err) {
      throw new OpaError('invalid', `policy bundle ${o.bundle}: /policy.wasm does not compile: ${reasonOf(err)}`);
    }
    const data = file('data.json');
    try {
      policy.setData(data ? (JSON.parse(Buffer.from(data).toString('utf8')) as object) : {});
    } catch (err) {
      throw new OpaError('invalid', `policy bundle ${o.bundle}: /data.json: ${reasonOf(err)}`);
    }
    cache = { hash, policy };
    return policy;
  };
  return {
    name: 'wasm',
    where,
    async evaluate(path, input, signal) {
      let bytes: Buffer;
      try {
        bytes = await readFile(o.bundle, { signal });
      } catch (err) {
        throw new OpaError('invalid', `policy bundle ${o.bundle} cannot be read: ${reasonOf(err)}`);
      }
      const hash = sha256(bytes);
      const policy = await load(bytes, hash);
      const entrypoints = Object.keys(policy.entrypoints ?? {});
      if (!entrypoints.includes(path)) {
        throw new OpaError('invalid', `${where(path)}: the bundle has no such entrypoint (it has: ${entrypoints.join(', ') || 'none'}); build it with opa build -t wasm -e ${path}`);
      }
      let set: unknown;
      try {
        set = policy.evaluate(input, path);
      } catch (err) {
        throw new OpaError('invalid', `${where(path)}: evaluation failed: ${reasonOf(err)}`);
      }
      // A result set: [{ result }] when the rule is defined, [] when it is not.
      const first = Array.isArray(set) ? (set[0] as { result?: unknown } | undefined) : undefined;
      return { value: first?.result, hash };
    },
  };
}

export interface OpaDeps {
  /** config opa.url: an OPA server. */
  server?: OpaBackend;
  /** config opa.bundle: a Wasm bundle evaluated in process. */
  wasm?: OpaBackend;
}

/** The backends config opa names. */
export function opaDeps(c: { url?: string | undefined; bundle?: string | undefined }, fetch?: typeof globalThis.fetch): OpaDeps {
  return {
    ...(c.url ? { server: opaServer({ url: c.url, ...(fetch ? { fetch } : {}) }) } : {}),
    ...(c.bundle ? { wasm: opaWasm({ bundle: c.bundle }) } : {}),
  };
}

export interface OpaDecideInput {
  gate: PolicyGate;
  input: PolicyInput;
  timeoutMs: number;
}

export function createOpaActivities(deps: OpaDeps = {}) {
  return {
    /** Asks the gate's rule; the answer (or why there is none) is recorded in history. */
    async opaDecide({ gate, input, timeoutMs }: OpaDecideInput): Promise<PolicyResult> {
      const started = Date.now();
      const name = gate.backend ?? (deps.server ? 'server' : 'wasm');
      const backend = name === 'server' ? deps.server : deps.wasm;
      const took = (): number => Date.now() - started;
      if (!backend) {
        const setting = name === 'server' ? 'opa.url (MEDIC_OPA_URL)' : 'opa.bundle (MEDIC_OPA_BUNDLE)';
        return { ok: false, error: { kind: 'unavailable', message: `no OPA ${name} is configured (config ${setting})` }, backend: 'none', durationMs: took() };
      }
      const deadline = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      try {
        const { value, hash } = await Promise.race([
          backend.evaluate(gate.decision, input, deadline.signal),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              deadline.abort();
              reject(new OpaError('unavailable', `${backend.where(gate.decision)}: no answer within ${timeoutMs}ms`));
            }, timeoutMs);
          }),
        ]);
        const parsed = parsePolicyAnswer(value, backend.where(gate.decision));
        if (!parsed.ok) return { ok: false, error: { kind: 'invalid', message: parsed.error }, ...(hash ? { hash } : {}), backend: backend.name, durationMs: took() };
        return { ok: true, answer: parsed.answer, ...(hash ? { hash } : {}), backend: backend.name, durationMs: took() };
      } catch (err) {
        const e = err instanceof OpaError ? err : new OpaError('unavailable', `${backend.where(gate.decision)}: ${reasonOf(err)}`);
        const message = e.message.includes(backend.where(gate.decision)) || e.message.startsWith('policy bundle') || e.message.startsWith('OPA server') ? e.message : `${backend.where(gate.decision)}: ${e.message}`;
        return { ok: false, error: { kind: e.kind, message }, backend: backend.name, durationMs: took() };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
