// Request bodies are JSON (the http action sends content-type: application/json). The rule: a
// body with placeholders must be JSON in which every placeholder sits inside a JSON string; each
// value is JSON-string-escaped there, so it can add no key, value or structure. After rendering,
// the body must parse and have the template's shape (same keys, same value types).
import { placeholdersOf, substitute, type RenderViolation, type TemplateContext } from './template.js';

/** For each placeholder: is it inside a JSON string? (The template is scanned as JSON text.) */
function insideStrings(template: string): Map<number, boolean> {
  const where = new Map<number, boolean>();
  const starts = new Map(placeholdersOf(template).map((p) => [p.start, p] as const));
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const p = starts.get(i);
    if (p) {
      where.set(p.start, inString);
      i = p.end - 1;
      continue;
    }
    const c = template[i];
    if (inString && c === '\\') i++;
    else if (c === '"') inString = !inString;
  }
  return where;
}

/** The template with every placeholder as an empty string: what its shape is compared against. */
const skeleton = (template: string): string => substitute(template, { incident: { id: '', workflowId: '' }, labels: {}, annotations: {}, target: '' }, () => '').replace(/\{\{\s*secret\.[A-Za-z0-9_]+\s*\}\}/g, '');

/** Why a body template is not acceptable in a playbook, or undefined. */
export function jsonBodyTemplateProblem(template: string): string | undefined {
  const ps = placeholdersOf(template);
  if (ps.length === 0) return undefined; // a literal body is sent as written
  if (ps.some((p) => p.path.startsWith('secret.'))) return 'may not contain {{secret.…}} (secrets go in header values only)';
  const inside = insideStrings(template);
  const outside = ps.find((p) => !inside.get(p.start));
  if (outside) return `{{${outside.path}}} must sit inside a JSON string ("…{{${outside.path}}}…"): a body with templates is JSON and values are inserted as string text`;
  try {
    JSON.parse(skeleton(template));
  } catch (err) {
    return `must be JSON when it uses templates: ${(err as Error).message}`;
  }
  return undefined;
}

/** Same keys and value types, recursively (values of strings may differ). */
function sameShape(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameShape(x, b[i]));
  if (a !== null && typeof a === 'object') {
    if (b === null || typeof b !== 'object' || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameShape((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return typeof a === typeof b && (typeof a === 'string' || a === b);
}

export type JsonViolation = RenderViolation;

export function renderJsonBody(template: string, ctx: TemplateContext): { body: string } | { violation: JsonViolation } {
  const problem = jsonBodyTemplateProblem(template);
  if (problem) return { violation: { value: template, rule: problem } };
  if (placeholdersOf(template).length === 0) return { body: template };
  const body = substitute(template, ctx, (v) => JSON.stringify(v).slice(1, -1));
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { violation: { value: body, rule: 'is not valid JSON after rendering' } };
  }
  // Keys may be templated too: compare against the skeleton's shape only when keys are literal.
  if (!sameShape(JSON.parse(skeleton(template)), parsed) && !hasTemplatedKey(template)) {
    return { violation: { value: body, rule: 'changes the structure of the JSON body' } };
  }
  return { body };
}

/** A placeholder inside an object key: the rendered key legitimately differs from the skeleton's. */
const hasTemplatedKey = (template: string): boolean => /"[^"]*\{\{[^}]+\}\}[^"]*"\s*:/.test(template);
