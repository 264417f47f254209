// Log sources for the evidence pack: the last container log lines of the target, asked for by a
// stream selector (field → value). In production the pod log API (the API server proxies the
// kubelet); where there is no kubelet, or logs live in a log store, VictoriaLogs' LogsQL API
// (`{field="value",…}` is a LogQL-shaped stream selector both understand). Selector values come
// from alert data: they are quoted here and the query is checked again after it is built (each
// quoted string must read back as exactly the intended value), so a value can never add a
// filter or a pipe.
import { call, requestOptions, type KubeClients } from '../kubernetes/client.js';
import type { EvidencePack } from '../../src/evidence/schema.js';

export interface LogQuery {
  selector: Record<string, string>;
  lines: number;
  sinceMs: number;
  timeoutMs: number;
}
export type LogsEvidence = NonNullable<EvidencePack['logs']>;
export interface LogSource {
  name: string;
  read(q: LogQuery): Promise<LogsEvidence>;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** `{k="v",…}` with every value quoted (Go/JSON string syntax, which LogsQL and LogQL read). */
export function streamSelector(selector: Record<string, string>): string {
  const parts = Object.entries(selector).map(([k, v]) => {
    if (!KEY.test(k)) throw new Error(`log selector field ${JSON.stringify(k)} must match ${KEY.source}`);
    return `${k}=${JSON.stringify(v)}`;
  });
  const q = `{${parts.join(',')}}`;
  const problem = selectorProblem(q, selector);
  if (problem) throw new Error(`log query refused: ${problem}`);
  return q;
}

/** Re-validation after building: the query's quoted strings, read back, are exactly the values. */
export function selectorProblem(q: string, selector: Record<string, string>): string | undefined {
  const strings = [...q.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  const want = Object.values(selector);
  if (strings.length !== want.length || strings.some((s, i) => s !== want[i])) return `the built query ${JSON.stringify(q.slice(0, 80))} does not hold the selector values as quoted strings`;
  const outside = q.replace(/"((?:[^"\\]|\\.)*)"/g, '""');
  if (!/^\{[A-Za-z0-9_.]+=""(,[A-Za-z0-9_.]+="")*\}$/.test(outside)) return `the built query has structure outside its strings: ${JSON.stringify(outside.slice(0, 80))}`;
  return undefined;
}

/** VictoriaLogs (/select/logsql/query): newest `lines` entries of the stream, returned oldest first. */
export function victoriaLogsSource(o: { url: string; fetch?: typeof globalThis.fetch }): LogSource {
  const f = o.fetch ?? globalThis.fetch;
  return {
    name: 'victorialogs',
    async read(q) {
      const stream = streamSelector(q.selector);
      const query = `_time:${Math.max(1, Math.round(q.sinceMs / 1000))}s ${stream} | sort by (_time desc) | limit ${q.lines}`;
      const res = await f(`${o.url.replace(/\/$/, '')}/select/logsql/query`, {
        method: 'POST',
        body: new URLSearchParams({ query }),
        signal: AbortSignal.timeout(q.timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`VictoriaLogs answered HTTP ${res.status}: ${text.slice(0, 200)}`);
      const lines: LogsEvidence['lines'] = [];
      for (const [i, raw] of text.split('\n').entries()) {
        if (!raw.trim()) continue;
        let row: Record<string, unknown>;
        try {
          row = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          throw new Error(`VictoriaLogs returned something that is not JSON lines (line ${i + 1}: ${JSON.stringify(raw.slice(0, 60))})`);
        }
        if (typeof row._msg !== 'string') throw new Error(`VictoriaLogs returned a row without _msg (line ${i + 1})`);
        lines.push({ line: row._msg, ...(typeof row._time === 'string' ? { at: row._time } : {}), ...(typeof row.pod === 'string' ? { pod: row.pod } : {}) });
      }
      return { source: 'victorialogs', query, lines: lines.reverse() };
    },
  };
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The pod log API: pods matched by the selector (its `namespace` field picks the namespace, the
 * rest are pod labels, re-validated as label values), their last lines with timestamps. */
export function podLogSource(c: KubeClients, defaultNamespace: string): LogSource {
  return {
    name: 'pod-log-api',
    async read(q) {
      const { namespace = defaultNamespace, ...labels } = q.selector;
      for (const [k, v] of Object.entries(labels)) {
        if (!LABEL_VALUE.test(v) || v.length > 63) throw new Error(`log selector ${k} value ${JSON.stringify(v.slice(0, 60))} is not a Kubernetes label value: not queried`);
      }
      const labelSelector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
      const opts = requestOptions(q.timeoutMs);
      const pods = (await call(`list pods ${namespace} -l ${labelSelector}`, () => c.core.listNamespacedPod({ namespace, labelSelector, limit: 5 }, opts))).items;
      const lines: LogsEvidence['lines'] = [];
      for (const p of pods.slice(0, 3)) {
        const name = p.metadata?.name ?? '';
        const text = await call(`get pods/log ${namespace}/${name}`, () =>
          c.core.readNamespacedPodLog({ namespace, name, tailLines: q.lines, timestamps: true, sinceSeconds: Math.max(1, Math.round(q.sinceMs / 1000)) }, opts),
        );
        for (const l of text.split('\n').filter(Boolean)) {
          const sp = l.indexOf(' ');
          lines.push({ pod: name, at: l.slice(0, sp), line: l.slice(sp + 1) });
        }
      }
      lines.sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
      return { source: 'pod-log-api', query: `${namespace} ${labelSelector}`, lines: lines.slice(-q.lines) };
    },
  };
}
