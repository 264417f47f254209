// {{path}} templates in playbook strings. Pure, so the workflow renders them; {{secret.NAME}} is
// deliberately left in place for the activity to resolve, keeping secrets out of history.
export interface TemplateContext {
  incident: { id: string; workflowId: string };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  target: string;
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_.-]+)\s*\}\}/g;

export function render(template: string, ctx: TemplateContext): string {
  return template.replace(PLACEHOLDER, (whole, path: string) => {
    if (path.startsWith('secret.')) return whole;
    const [root, ...rest] = path.split('.');
    const key = rest.join('.');
    switch (root) {
      case 'incident':
        return key === 'id' ? ctx.incident.id : key === 'workflowId' ? ctx.incident.workflowId : '';
      case 'labels':
        return ctx.labels[key] ?? '';
      case 'annotations':
        return ctx.annotations[key] ?? '';
      case 'target':
        return ctx.target;
      default:
        return '';
    }
  });
}

export function renderRecord(values: Record<string, string>, ctx: TemplateContext): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, render(v, ctx)]));
}
