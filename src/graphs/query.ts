// Which PromQL the incident graph runs. The alert's generatorURL is attacker data: its expression
// is run only when the playbook lists it verbatim in graph.alertExpressions. Otherwise the graph
// comes from the playbook (graph.query, else the first promql verification), rendered with label
// values escaped (src/playbooks/render.ts). Pure: the workflow notes a refusal in the timeline and
// the status carries the chosen query to the Slack sink.
import type { Alert } from '../intake/schemas.js';
import { expressionOf } from '../intake/schemas.js';
import { renderFor, shown } from '../playbooks/render.js';
import type { Playbook } from '../playbooks/schema.js';
import type { TemplateContext } from '../playbooks/template.js';

export interface GraphChoice {
  /** The query to graph; absent: no graph. */
  query?: string;
  source?: 'alert' | 'playbook';
  /** Why the alert's own expression (or the playbook's query) was not used, for the timeline. */
  refused?: string;
}

function playbookQuery(pb: Pick<Playbook, 'steps' | 'graph'>, ctx: TemplateContext): { query?: string; refused?: string } {
  const stepIndex = pb.steps.findIndex((s) => s.verification?.promql);
  const template = pb.graph?.query ?? pb.steps[stepIndex]?.verification?.promql?.query;
  if (template === undefined) return {};
  const field = pb.graph?.query !== undefined ? 'graph.query' : `steps.${stepIndex}.verification.promql.query`;
  const r = renderFor('promql', template, ctx, field);
  return r.ok ? { query: r.value } : { refused: `incident graph refused: ${r.refusal.message}` };
}

export function graphFor(pb: Pick<Playbook, 'name' | 'steps' | 'graph'>, alert: Pick<Alert, 'annotations'>, ctx: TemplateContext): GraphChoice {
  const expr = expressionOf(alert.annotations.generatorURL);
  if (expr !== undefined && (pb.graph?.alertExpressions ?? []).includes(expr.trim())) return { query: expr.trim(), source: 'alert' };
  const own = playbookQuery(pb, ctx);
  if (expr === undefined) return own.query ? { query: own.query, source: 'playbook' } : own;
  const instead = own.query ? `graphing the playbook's \`${own.query}\` instead` : own.refused ? own.refused : 'no graph';
  return {
    ...(own.query ? { query: own.query, source: 'playbook' as const } : {}),
    refused: `incident graph: the alert's expression \`${shown(expr)}\` (generatorURL) is not in graph.alertExpressions of playbook ${pb.name}, so medic does not run it; ${instead}`,
  };
}
