// Typed rendering: a template value is rendered for the context it lands in (URL, PromQL string,
// HTTP header, JSON body, name) and re-validated after rendering. A value that cannot be placed
// safely gives a RenderRefusal naming the field, the value (truncated) and the rule; callers act on
// nothing then. Pure and deterministic: the workflow renders with it, and so does `medic simulate`.
// (README, "Templates are typed".)
import { renderJsonBody } from './render-json.js';
import { renderPromql } from './render-promql.js';
import { renderUrl } from './render-url.js';
import { isSecretPath, placeholdersOf, substitute, type Placeholder, type TemplateContext } from './template.js';

export type RenderKind = 'url' | 'promql' | 'header' | 'json' | 'name';

export interface RenderRefusal {
  /** The playbook field, e.g. steps.0.params.url */
  field: string;
  /** Where the offending value came from, e.g. label `service`; absent when it is the whole result. */
  source?: string;
  /** The offending value, truncated. */
  value: string;
  rule: string;
  /** One line for the timeline: field, value and rule. */
  message: string;
}

export type Rendered<T = string> = { ok: true; value: T } | { ok: false; refusal: RenderRefusal };

const MAX_SHOWN = 60;
/** Values in messages: truncated, control characters made visible. */
export const shown = (v: string): string => {
  // eslint-disable-next-line no-control-regex
  const visible = v.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return visible.length > MAX_SHOWN ? `${visible.slice(0, MAX_SHOWN)}…` : visible;
};

const sourceOf = (p: Placeholder): string => {
  const [root, ...rest] = p.path.split('.');
  const key = rest.join('.');
  return root === 'labels' ? `label \`${key}\`` : root === 'annotations' ? `annotation \`${key}\`` : `{{${p.path}}}`;
};

export function refusal(field: string, v: { placeholder?: Placeholder; value: string; rule: string }): RenderRefusal {
  const source = v.placeholder ? sourceOf(v.placeholder) : undefined;
  const message = `${field}: ${source ? `${source} value` : 'rendered value'} \`${shown(v.value)}\` ${v.rule}`;
  return { field, ...(source ? { source } : {}), value: shown(v.value), rule: v.rule, message };
}

/** Header values: no line breaks or other control characters (a value could add headers). */
// eslint-disable-next-line no-control-regex
const HEADER_FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f]/;
export const HEADER_RULE = 'contains a line break or control character, which an HTTP header value may not';

/** Names sent as URL path segments of an API (flag project, environment, feature). */
export const NAME_PATTERN = /^[A-Za-z0-9_.~-]+$/;

/** One value per placeholder, checked by `test`; the first one failing is the violation. */
function checkValues(template: string, ctx: TemplateContext, test: (v: string) => string | undefined): { placeholder: Placeholder; value: string; rule: string } | undefined {
  for (const p of placeholdersOf(template)) {
    if (isSecretPath(p.path)) continue;
    const value = substitute(`{{${p.path}}}`, ctx, (v) => v);
    const rule = test(value);
    if (rule) return { placeholder: p, value, rule };
  }
  return undefined;
}

/** Renders `template` for `kind`; `field` names it in a refusal (e.g. steps.0.params.url). */
export function renderFor(kind: RenderKind, template: string, ctx: TemplateContext, field: string): Rendered {
  switch (kind) {
    case 'url': {
      const r = renderUrl(template, ctx);
      return 'url' in r ? { ok: true, value: r.url } : { ok: false, refusal: refusal(field, r.violation) };
    }
    case 'promql': {
      const r = renderPromql(template, ctx);
      return 'query' in r ? { ok: true, value: r.query } : { ok: false, refusal: refusal(field, r.violation) };
    }
    case 'json': {
      const r = renderJsonBody(template, ctx);
      return 'body' in r ? { ok: true, value: r.body } : { ok: false, refusal: refusal(field, r.violation) };
    }
    case 'header': {
      const bad = checkValues(template, ctx, (v) => (HEADER_FORBIDDEN.test(v) ? HEADER_RULE : undefined));
      if (bad) return { ok: false, refusal: refusal(field, bad) };
      return { ok: true, value: substitute(template, ctx, (v) => v) };
    }
    case 'name': {
      const value = substitute(template, ctx, (v) => v);
      const bad = checkValues(template, ctx, (v) => (NAME_PATTERN.test(v) ? undefined : `does not match ${NAME_PATTERN.source}`));
      if (bad) return { ok: false, refusal: refusal(field, bad) };
      if (!NAME_PATTERN.test(value) || value === '.' || value === '..') {
        return { ok: false, refusal: refusal(field, { value, rule: `must match ${NAME_PATTERN.source} and not be . or ..` }) };
      }
      return { ok: true, value };
    }
  }
}

/** A header value as the activity receives it: literal text (rendered, never re-read) and secret
 * references that were written in the playbook's own template. */
export type HeaderPart = string | { secret: string };

/** Renders a header template into parts: {{secret.NAME}} written in the template becomes a
 * reference the activity resolves; a value that merely looks like one (from a label) is text. */
export function renderHeader(template: string, ctx: TemplateContext, field: string): Rendered<HeaderPart[]> {
  const checked = renderFor('header', template, ctx, field);
  if (!checked.ok) return checked;
  const parts: HeaderPart[] = [];
  let at = 0;
  const text = (t: string): void => {
    if (t !== '') parts.push(t);
  };
  for (const p of placeholdersOf(template)) {
    text(template.slice(at, p.start));
    if (isSecretPath(p.path)) parts.push({ secret: p.path.slice('secret.'.length) });
    else text(substitute(`{{${p.path}}}`, ctx, (v) => v));
    at = p.end;
  }
  text(template.slice(at));
  // Adjacent text parts merge, so a header without secrets is one string.
  const merged = parts.reduce<HeaderPart[]>((acc, part) => {
    const last = acc[acc.length - 1];
    if (typeof part === 'string' && typeof last === 'string') acc[acc.length - 1] = last + part;
    else acc.push(part);
    return acc;
  }, []);
  return { ok: true, value: merged };
}

/** First refusal among several renders, or their values. */
export function allRendered<K extends string>(results: Record<K, Rendered<unknown>>): RenderRefusal | undefined {
  for (const r of Object.values(results) as Rendered<unknown>[]) if (!r.ok) return r.refusal;
  return undefined;
}
