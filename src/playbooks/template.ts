// {{path}} templates in playbook strings. Pure, so the workflow renders them. Values from alerts are
// hostile: `render` is for display only; anything sent somewhere goes through `renderFor`
// (src/playbooks/render.ts), which encodes each value for where it lands and re-validates.
// {{secret.NAME}} is never resolved here: only a reference written in the playbook's own template
// text counts (see render.ts `renderHeader`), never one that arrives inside a label value.
export interface TemplateContext {
  incident: { id: string; workflowId: string };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  target: string;
}

/** One `{{…}}` in a template: where it is and what it names. */
export interface Placeholder {
  start: number;
  end: number;
  /** e.g. labels.service, incident.id, secret.TOKEN */
  path: string;
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_.-]+)\s*\}\}/g;

/** The placeholders of a template, in order (found in the template text, never in values). */
/** Why a rendered value was refused (render-url, render-json, render-promql): nothing partial is sent. */
export interface RenderViolation {
  /** The placeholder whose value broke the rule, when one did. */
  placeholder?: Placeholder;
  value: string;
  rule: string;
}

export function placeholdersOf(template: string): Placeholder[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({ start: m.index, end: m.index + m[0].length, path: m[1]! }));
}

export const isSecretPath = (path: string): boolean => path.startsWith('secret.');

/** The value a (non-secret) placeholder stands for; unknown paths render empty. */
export function valueOf(path: string, ctx: TemplateContext): string {
  const [root, ...rest] = path.split('.');
  const key = rest.join('.');
  switch (root) {
    case 'incident':
      return key === 'id' ? ctx.incident.id : key === 'workflowId' ? ctx.incident.workflowId : '';
    case 'labels':
      return Object.hasOwn(ctx.labels, key) ? (ctx.labels[key] ?? '') : '';
    case 'annotations':
      return Object.hasOwn(ctx.annotations, key) ? (ctx.annotations[key] ?? '') : '';
    case 'target':
      return ctx.target;
    default:
      return '';
  }
}

/** One pass over the template: each placeholder is replaced by `encode(value)`; inserted values
 * are never scanned again, so a value that looks like a template stays text. */
export function substitute(
  template: string,
  ctx: TemplateContext,
  encode: (value: string, p: Placeholder) => string,
): string {
  let out = '';
  let at = 0;
  for (const p of placeholdersOf(template)) {
    out += template.slice(at, p.start) + (isSecretPath(p.path) ? template.slice(p.start, p.end) : encode(valueOf(p.path, ctx), p));
    at = p.end;
  }
  return out + template.slice(at);
}

/** Plain rendering for display (timeline text, descriptions): values inserted as they are,
 * {{secret.*}} left in place. Never send its result anywhere: use renderFor. */
export const render = (template: string, ctx: TemplateContext): string => substitute(template, ctx, (v) => v);

export function renderRecord(values: Record<string, string>, ctx: TemplateContext): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, render(v, ctx)]));
}
