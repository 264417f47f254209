// URL templates: the scheme://host[:port] part is literal (templates may not choose where a request
// goes); placeholders in the path, query or fragment are percent-encoded (encodeURIComponent), so a
// value stays inside one path segment or one query value. After rendering, the URL is parsed again:
// its origin must be the literal one and its path must not have been rewritten by the URL parser
// (a `.`/`..` segment would be, and no value may leave a segment empty).
import { placeholdersOf, substitute, type Placeholder, type RenderViolation, type TemplateContext } from './template.js';

/** scheme://authority — everything before the path. */
const ORIGIN = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/;

export const URL_ORIGIN_RULE = 'the scheme://host[:port] part must be literal: a template may not choose where a request goes';

/** Why a URL template is not acceptable in a playbook, or undefined. */
export function urlTemplateProblem(template: string): string | undefined {
  const origin = ORIGIN.exec(template)?.[0];
  if (origin === undefined) return 'must be an absolute http(s) URL (scheme://host/…)';
  if (origin.includes('{{') || origin.includes('}}')) return `${URL_ORIGIN_RULE} (found a {{…}} in "${origin}")`;
  if (!/^https?:/i.test(origin)) return 'must be an http(s) URL';
  try {
    new URL(origin);
  } catch {
    return `"${origin}" is not a valid URL origin`;
  }
  if (placeholdersOf(template).some((p) => p.path.startsWith('secret.'))) return 'may not contain {{secret.…}} (secrets go in header values only)';
  return undefined;
}

export type UrlViolation = RenderViolation;

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** Renders a URL template; a value that cannot be placed safely is a violation, nothing partial. */
export function renderUrl(template: string, ctx: TemplateContext): { url: string } | { violation: UrlViolation } {
  const problem = urlTemplateProblem(template);
  if (problem) return { violation: { value: template, rule: problem } };
  const origin = ORIGIN.exec(template)![0];
  let bad: UrlViolation | undefined;
  const rendered = substitute(template, ctx, (value, p) => {
    try {
      return encodeURIComponent(value);
    } catch {
      bad ??= { placeholder: p, value, rule: 'is not valid Unicode text (a lone surrogate)' };
      return '';
    }
  });
  if (bad) return { violation: bad };
  // Each path segment that holds a placeholder must render to a real segment.
  const pathEnd = template.slice(origin.length).search(/[?#]/);
  const pathTemplate = pathEnd === -1 ? template.slice(origin.length) : template.slice(origin.length, origin.length + pathEnd);
  let offset = origin.length;
  for (const segment of pathTemplate.split('/')) {
    const inSegment = placeholdersOf(segment).map((p) => ({ ...p, start: p.start + offset, end: p.end + offset }));
    offset += segment.length + 1;
    if (inSegment.length === 0) continue;
    const out = substitute(segment, ctx, (v) => encodeURIComponent(v));
    const first = inSegment[0]!;
    const value = inSegment.map((p) => substituteOne(p, ctx)).join('');
    if (out === '') return { violation: { placeholder: first, value, rule: 'renders an empty URL path segment (a missing or empty value)' } };
    if (DOT_SEGMENT.test(out)) return { violation: { placeholder: first, value, rule: 'renders a `.` or `..` URL path segment, which would change the path' } };
  }
  // Re-validate what the URL parser makes of it: same origin, path not rewritten.
  let parsed: URL;
  try {
    parsed = new URL(rendered);
  } catch {
    return { violation: { value: rendered, rule: 'is not a valid URL after rendering' } };
  }
  if (parsed.origin !== new URL(origin).origin) {
    return { violation: { value: rendered, rule: `must keep the playbook's origin ${new URL(origin).origin}` } };
  }
  const renderedPath = rendered.slice(origin.length).replace(/[?#].*$/s, '') || '/';
  if (parsed.pathname !== renderedPath) {
    return { violation: { value: rendered, rule: 'has a path the URL parser rewrites (dot segments or characters it normalises)' } };
  }
  return { url: rendered };
}

const substituteOne = (p: Placeholder, ctx: TemplateContext): string => substitute(`{{${p.path}}}`, ctx, (v) => v);

/** Path segments after the origin (for tests and callers that check structure). */
export function pathSegments(url: string): string[] {
  const origin = ORIGIN.exec(url)?.[0] ?? '';
  return url.slice(origin.length).replace(/[?#].*$/s, '').split('/');
}
