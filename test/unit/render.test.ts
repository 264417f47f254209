// Typed rendering (src/playbooks/render.ts): each value rendered for its context and re-validated.
// Table tests for the known attacks, fast-check properties for "any label value".
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonBodyTemplateProblem } from '../../src/playbooks/render-json.js';
import { escapePromqlString, promqlTemplateProblem, tokenizePromql, unquotePromql } from '../../src/playbooks/render-promql.js';
import { pathSegments, urlTemplateProblem } from '../../src/playbooks/render-url.js';
import { renderFor, renderHeader } from '../../src/playbooks/render.js';
import type { TemplateContext } from '../../src/playbooks/template.js';
import { graphFor } from '../../src/graphs/query.js';
import { PlaybookSchema, type Step } from '../../src/playbooks/schema.js';
import { httpActionInput, stepRefusal } from '../../workflows/actions.js';
import { dryRunActuator } from '../../src/simulate/actuator.js';

const ctx = (labels: Record<string, string>, annotations: Record<string, string> = {}): TemplateContext => ({
  incident: { id: 'incident:lb:abc:123', workflowId: 'incident:lb:abc' },
  labels,
  annotations,
  target: 'lb/x',
});

const URL_T = 'https://traffic.example.com:8443/v1/services/{{labels.service}}/pools/{{labels.pool}}/weight?reason={{labels.reason}}';

describe('URL', () => {
  it.each([
    ['web', 'https://traffic.example.com:8443/v1/services/web/pools/p1/weight?reason=x'],
    ['../../admin', 'https://traffic.example.com:8443/v1/services/..%2F..%2Fadmin/pools/p1/weight?reason=x'],
    ['a/b?x=', 'https://traffic.example.com:8443/v1/services/a%2Fb%3Fx%3D/pools/p1/weight?reason=x'],
    ['a#frag', 'https://traffic.example.com:8443/v1/services/a%23frag/pools/p1/weight?reason=x'],
    ['{{secret.TRAFFIC_API_TOKEN}}', 'https://traffic.example.com:8443/v1/services/%7B%7Bsecret.TRAFFIC_API_TOKEN%7D%7D/pools/p1/weight?reason=x'],
    ['@evil.example.com', 'https://traffic.example.com:8443/v1/services/%40evil.example.com/pools/p1/weight?reason=x'],
  ])('service=%j is encoded into one path segment', (service, url) => {
    expect(renderFor('url', URL_T, ctx({ service, pool: 'p1', reason: 'x' }), 'params.url')).toEqual({ ok: true, value: url });
  });

  it('a query value cannot add parameters', () => {
    const r = renderFor('url', URL_T, ctx({ service: 's', pool: 'p', reason: 'x&weight=100#' }), 'params.url');
    expect(r).toEqual({ ok: true, value: 'https://traffic.example.com:8443/v1/services/s/pools/p/weight?reason=x%26weight%3D100%23' });
    expect([...new URL((r as { value: string }).value).searchParams.keys()]).toEqual(['reason']);
  });

  it.each([
    ['..', 'renders a `.` or `..` URL path segment, which would change the path'],
    ['.', 'renders a `.` or `..` URL path segment, which would change the path'],
    ['', 'renders an empty URL path segment (a missing or empty value)'],
  ])('service=%j is refused, naming the field, the label and the rule', (service, rule) => {
    const r = renderFor('url', URL_T, ctx({ service, pool: 'p1', reason: 'x' }), 'steps.0.params.url');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.refusal).toMatchObject({ field: 'steps.0.params.url', source: 'label `service`', value: service, rule });
    expect(r.refusal.message).toBe(`steps.0.params.url: label \`service\` value \`${service}\` ${rule}`);
  });

  it('a lone surrogate is refused, not thrown', () => {
    const r = renderFor('url', URL_T, ctx({ service: '\ud800', pool: 'p', reason: 'x' }), 'params.url');
    expect(r.ok).toBe(false);
  });

  it('property: any label value keeps the origin and the number of path segments, or is refused', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.stringMatching(/^[a-z0-9-]{1,12}$/), (service, pool) => {
        const r = renderFor('url', URL_T, ctx({ service, pool, reason: service }), 'params.url');
        if (!r.ok) {
          expect(['', '.', '..'].includes(service) || /[\ud800-\udfff]/.test(service)).toBe(true);
          return;
        }
        const u = new URL(r.value);
        expect(u.origin).toBe('https://traffic.example.com:8443');
        expect(pathSegments(r.value)).toHaveLength(pathSegments(URL_T).length);
        expect(decodeURIComponent(pathSegments(r.value)[3]!)).toBe(service);
        expect(u.searchParams.get('reason')).toBe(service);
        expect([...u.searchParams.keys()]).toEqual(['reason']);
        expect(u.hash).toBe('');
      }),
      { numRuns: 500 },
    );
  });
});

describe('PromQL', () => {
  const Q = 'demo_up{job="{{labels.job}}"} == 1';
  it('the `"} or vector(1)` attack stays inside the label value', () => {
    const job = 'x"} or vector(1) or demo_up{job="x';
    const r = renderFor('promql', Q, ctx({ job }), 'verification.promql.query');
    expect(r).toEqual({ ok: true, value: 'demo_up{job="x\\"} or vector(1) or demo_up{job=\\"x"} == 1' });
    const tokens = tokenizePromql((r as { value: string }).value);
    expect(Array.isArray(tokens) && tokens.map((t) => t.text).filter((t) => t === 'vector')).toEqual([]);
  });

  it.each([
    ['back\\slash', 'demo_up{job="back\\\\slash"} == 1'],
    ['new\nline', 'demo_up{job="new\\u000aline"} == 1'],
    ['tab\there', 'demo_up{job="tab\\u0009here"} == 1'],
    ["it's", 'demo_up{job="it\'s"} == 1'],
  ])('escapes %j', (job, query) => {
    expect(renderFor('promql', Q, ctx({ job }), 'q')).toEqual({ ok: true, value: query });
  });

  it('regex matchers: the value matches only itself', () => {
    expect(renderFor('promql', 'up{job=~"{{labels.job}}"}', ctx({ job: '.*' }), 'q')).toEqual({ ok: true, value: 'up{job=~"\\\\.\\\\*"}' });
    expect(renderFor('promql', "up{job!~'{{labels.job}}|b'}", ctx({ job: "a'|.+" }), 'q')).toEqual({ ok: true, value: "up{job!~'a\\'\\\\|\\\\.\\\\+|b'}" });
  });

  it('property: for any label value the escaped string round-trips and the query keeps its structure', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), fc.string(), (a, b) => {
        const v = a + b;
        expect(unquotePromql(`"${escapePromqlString(v)}"`)).toBe(v);
        expect(unquotePromql(`'${escapePromqlString(v, "'")}'`)).toBe(v);
        const r = renderFor('promql', Q, ctx({ job: v }), 'q');
        expect(r.ok).toBe(true);
        const before = tokenizePromql(Q.replace('{{labels.job}}', 'x'));
        const after = tokenizePromql((r as { value: string }).value);
        expect(Array.isArray(after) && Array.isArray(before) && after.map((t) => t.kind)).toEqual(Array.isArray(before) && before.map((t) => t.kind));
      }),
      { numRuns: 500 },
    );
  });
});

describe('headers', () => {
  it('refuses CR/LF in a rendered value', () => {
    const r = renderFor('header', 'team {{labels.team}}', ctx({ team: 'x\r\nx-admin: true' }), 'params.headers.x-team');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusal.message).toBe('params.headers.x-team: label `team` value `x\\r\\nx-admin: true` contains a line break or control character, which an HTTP header value may not');
  });

  it('only secret references written in the template become secret parts; a label that looks like one is text', () => {
    expect(renderHeader('Bearer {{secret.TRAFFIC_API_TOKEN}}', ctx({}), 'h')).toEqual({ ok: true, value: ['Bearer ', { secret: 'TRAFFIC_API_TOKEN' }] });
    expect(renderHeader('svc {{labels.service}}', ctx({ service: '{{secret.TRAFFIC_API_TOKEN}}' }), 'h')).toEqual({
      ok: true,
      value: ['svc {{secret.TRAFFIC_API_TOKEN}}'],
    });
  });
});

describe('JSON bodies', () => {
  const B = '{"weight": 0, "reason": "medic incident {{incident.id}}: {{labels.alertname}}"}';
  it('a value cannot add keys or change values', () => {
    const alertname = 'x", "weight": 100, "y": "';
    const r = renderFor('json', B, ctx({ alertname }), 'params.body');
    expect(r.ok).toBe(true);
    expect(JSON.parse((r as { value: string }).value)).toEqual({ weight: 0, reason: `medic incident incident:lb:abc:123: ${alertname}` });
  });

  it.each([
    ['{"weight": {{labels.weight}}}', '{{labels.weight}} must sit inside a JSON string ("…{{labels.weight}}…"): a body with templates is JSON and values are inserted as string text'],
    ['weight={{labels.weight}}', '{{labels.weight}} must sit inside a JSON string ("…{{labels.weight}}…"): a body with templates is JSON and values are inserted as string text'],
    ['{"a": "{{labels.a}}"', 'must be JSON when it uses templates: '],
    ['{"token": "{{secret.X}}"}', 'may not contain {{secret.…}} (secrets go in header values only)'],
  ])('template %j fails validation', (template, problem) => {
    expect(jsonBodyTemplateProblem(template)).toContain(problem);
  });

  it('property: any label value leaves the body with the same keys and the value intact', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (alertname) => {
        const r = renderFor('json', B, ctx({ alertname }), 'b');
        expect(r.ok).toBe(true);
        const body = JSON.parse((r as { value: string }).value) as Record<string, unknown>;
        expect(Object.keys(body)).toEqual(['weight', 'reason']);
        expect(body.weight).toBe(0);
        expect(body.reason).toBe(`medic incident incident:lb:abc:123: ${alertname}`);
      }),
      { numRuns: 500 },
    );
  });
});

describe('names', () => {
  it.each(['..', '.', 'a/b', 'x y', ''])('%j is refused', (feature) => {
    expect(renderFor('name', '{{labels.feature}}', ctx({ feature }), 'params.feature').ok).toBe(false);
  });
  it('a plain name renders', () => {
    expect(renderFor('name', 'checkout-{{labels.feature}}', ctx({ feature: 'express' }), 'f')).toEqual({ ok: true, value: 'checkout-express' });
  });
});

describe('graph query (src/graphs/query.ts)', () => {
  const pb = (graph?: Record<string, unknown>) =>
    PlaybookSchema.parse({
      name: 'g',
      match: { alertname: 'A' },
      ...(graph ? { graph } : {}),
      steps: [{ name: 's', action: 'http', params: { url: 'http://127.0.0.1:9/x' }, verification: { promql: { query: 'demo_up{job="{{labels.job}}"}' } } }],
    });
  const gen = (expr: string): { annotations: Record<string, string> } => ({ annotations: { generatorURL: `http://prom:9090/graph?g0.expr=${encodeURIComponent(expr)}` } });

  it('an alert expression the playbook allow-lists verbatim is graphed as sent', () => {
    expect(graphFor(pb({ alertExpressions: ['demo_up == 0'] }), gen('demo_up == 0'), ctx({ job: 'demo' }))).toEqual({ query: 'demo_up == 0', source: 'alert' });
  });

  it('any other alert expression is not run: the playbook query (escaped) is, and the refusal says so', () => {
    const r = graphFor(pb({ alertExpressions: ['demo_up == 0'] }), gen('demo_up == 0 or vector(1)'), ctx({ job: 'x"} or vector(1)' }));
    expect(r).toEqual({
      query: 'demo_up{job="x\\"} or vector(1)"}',
      source: 'playbook',
      refused:
        "incident graph: the alert's expression `demo_up == 0 or vector(1)` (generatorURL) is not in graph.alertExpressions of playbook g, so medic does not run it; graphing the playbook's `demo_up{job=\"x\\\"} or vector(1)\"}` instead",
    });
  });

  it('graph.query wins over the verification; no alert expression: nothing to refuse', () => {
    expect(graphFor(pb({ query: 'rate(x{svc="{{labels.job}}"}[5m])' }), { annotations: {} }, ctx({ job: 'a' }))).toEqual({ query: 'rate(x{svc="a"}[5m])', source: 'playbook' });
  });
});

describe('a step is checked before it acts (workflows/actions.ts stepRefusal)', () => {
  const step = (params: Record<string, unknown>, verification?: Record<string, unknown>): Step =>
    PlaybookSchema.parse({ name: 'p', match: { alertname: 'A' }, steps: [{ name: 's', action: 'http', params, ...(verification ? { verification } : {}) }] }).steps[0]!;

  it('a refused verification refuses the step, naming the verification field', () => {
    const s = step({ url: 'http://127.0.0.1:9/x' }, { http: { url: 'http://127.0.0.1:9/health/{{labels.svc}}' } });
    expect(stepRefusal(s, ctx({ svc: '..' }))?.message).toBe('verification.http.url: label `svc` value `..` renders a `.` or `..` URL path segment, which would change the path');
    expect(stepRefusal(s, ctx({ svc: 'web' }))).toBeUndefined();
  });

  it('http inputs carry secret references as parts; a refused value throws instead of building an input', () => {
    const s = step({ url: 'http://127.0.0.1:9/v1/{{labels.svc}}', headers: { authorization: 'Bearer {{secret.T}}' } }) as Extract<Step, { action: 'http' }>;
    const o = { idempotencyKey: 'k', dryRun: false };
    expect(httpActionInput(s, ctx({ svc: 'a b' }), o).request).toMatchObject({ url: 'http://127.0.0.1:9/v1/a%20b', headers: { authorization: ['Bearer ', { secret: 'T' }] } });
    expect(() => httpActionInput(s, ctx({ svc: '.' }), o)).toThrow('refused, nothing was sent: params.url: label `svc` value `.` renders');
  });

  it('flag names are re-validated after rendering', () => {
    const flag = PlaybookSchema.parse({
      name: 'f',
      match: { alertname: 'A' },
      steps: [{ name: 's', action: 'flag', params: { provider: 'unleash', url: 'https://unleash.example.com', environment: '{{labels.env}}', feature: 'f', enabled: false, tokenSecret: 'T' } }],
    }).steps[0]!;
    expect(stepRefusal(flag, ctx({ env: '../../admin' }))?.message).toBe('params.environment: label `env` value `../../admin` does not match ^[A-Za-z0-9_.~-]+$');
    expect(stepRefusal(flag, ctx({ env: '..' }))?.message).toBe('params.environment: rendered value `..` must match ^[A-Za-z0-9_.~-]+$ and not be . or ..');
    expect(stepRefusal(flag, ctx({ env: 'production' }))).toBeUndefined();
  });
});

describe('medic simulate refuses as the workflow does', () => {
  it('a refused value gives a failed dry run naming field and rule; nothing is asked of the target', async () => {
    const asked: string[] = [];
    const step = PlaybookSchema.parse({
      name: 'p',
      match: { alertname: 'A' },
      steps: [{ name: 's', action: 'http', params: { url: 'http://127.0.0.1:9/v1/{{labels.svc}}', dryRunHeader: 'x-dry-run' } }],
    }).steps[0]!;
    const actuator = dryRunActuator({ fetch: (async (u: string) => void asked.push(String(u))) as unknown as typeof fetch });
    expect(await actuator(step, ctx({ svc: '..' }), 'k')).toEqual({
      ok: false,
      summary: 'refused, nothing would be sent: params.url: label `svc` value `..` renders a `.` or `..` URL path segment, which would change the path',
      error: 'params.url: label `svc` value `..` renders a `.` or `..` URL path segment, which would change the path',
    });
    expect(asked).toEqual([]);
  });
});

// Templates refused when the playbook loads, each with the checker of its field (URL or PromQL).
describe('template validation', () => {
  const check = { url: urlTemplateProblem, promql: promqlTemplateProblem };
  const LITERAL_HOST = 'the scheme://host[:port] part must be literal: a template may not choose where a request goes';
  it.each<[keyof typeof check, string, string]>([
    ['url', '{{annotations.webhook}}', 'must be an absolute http(s) URL (scheme://host/…)'],
    ['url', '{{annotations.webhook}}/remediate', 'must be an absolute http(s) URL (scheme://host/…)'],
    ['url', 'https://{{labels.host}}/x', `${LITERAL_HOST} (found a {{…}} in "https://{{labels.host}}")`],
    ['url', 'https://api.example.com:{{labels.port}}/x', `${LITERAL_HOST} (found a {{…}} in "https://api.example.com:{{labels.port}}")`],
    ['url', 'https://{{labels.sub}}.example.com/x', `${LITERAL_HOST} (found a {{…}} in "https://{{labels.sub}}.example.com")`],
    ['url', 'ftp://example.com/x', 'must be an http(s) URL'],
    ['url', 'https://example.com/{{secret.TOKEN}}', 'may not contain {{secret.…}} (secrets go in header values only)'],
    ['promql', 'up > {{labels.threshold}}', '{{labels.threshold}} must sit inside a quoted string, e.g. job="{{labels.threshold}}"'],
    ['promql', 'up{job=`{{labels.job}}`}', '{{labels.job}} may not sit inside a `raw string` (it cannot be escaped); use "…"'],
    ['promql', 'up{job="{{labels.job}}}', 'is not a PromQL expression: unterminated string at 7'],
    ['promql', 'up{job="{{secret.X}}"}', 'may not contain {{secret.…}}'],
  ])('%s template %j fails validation', (kind, template, problem) => {
    expect(check[kind](template)).toBe(problem);
  });
});
