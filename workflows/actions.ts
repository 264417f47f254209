// A step's action, rendered and run through the activity of its kind. Deterministic workflow code:
// templates are rendered here for their context (src/playbooks/render.ts); secret references
// written in the playbook travel as `{ secret }` parts for the activity to resolve.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { FlagActionInput } from '../activities/flags.js';
import type { HttpActionInput, RenderedHttpRequest } from '../activities/http.js';
import type { SsmAutomationInput, SsmCommandInput } from '../activities/ssm.js';
import { toMs } from '../src/playbooks/duration.js';
import type { Allow } from '../src/playbooks/allow.js';
import { renderFor, renderHeader, type HeaderPart, type RenderKind, type RenderRefusal, type Rendered } from '../src/playbooks/render.js';
import type { HttpRequest, Step, Verification } from '../src/playbooks/schema.js';
import { isTemplated, ssmInputProblem } from '../src/playbooks/ssm-guard.js';
import { render, type TemplateContext } from '../src/playbooks/template.js';
import { actionProfile, flagProfile, ssmProfile } from './profiles.js';
import { describeKubernetes, runKubernetes } from './kubernetes.js';
import { describeAnsible, runAnsible } from './ansible.js';
import type { HostReport } from './contracts-timeline.js';

export interface ActionOutcome {
  summary: string;
  durationMs: number;
  /** What goes into the timeline entry's data (status, output, ids). */
  data: Record<string, unknown>;
  /** Per-host results (ansible): the action.hosts timeline entry. */
  hosts?: HostReport;
}

/** A refused render as the failure a step fails with (nothing was sent). */
export const RENDER_REFUSED = 'RenderRefused';
export const refusedFailure = (r: RenderRefusal): ApplicationFailure =>
  ApplicationFailure.create({ type: RENDER_REFUSED, nonRetryable: true, message: `refused, nothing was sent: ${r.message}`, details: [{ refusal: r }] });

/** What to do with a refused value: throw (the default), or — only while replaying a history
 * recorded before typed rendering — fall back to the plain rendering that history was made with. */
type OnRefusal = 'throw' | 'plain';
const typed = (kind: RenderKind, template: string, ctx: TemplateContext, field: string, on: OnRefusal): string => {
  const r = renderFor(kind, template, ctx, field);
  if (r.ok) return r.value;
  if (on === 'plain') return render(template, ctx);
  throw refusedFailure(r.refusal);
};

/** An http request (step params or webhook rung), rendered for each field's context. */
export function renderHttpRequest(r: HttpRequest, ctx: TemplateContext, field = 'params'): Rendered<RenderedHttpRequest> {
  const url = renderFor('url', r.url, ctx, `${field}.url`);
  if (!url.ok) return url;
  const headers: Record<string, HeaderPart[]> = {};
  for (const [name, template] of Object.entries(r.headers)) {
    const h = renderHeader(template, ctx, `${field}.headers.${name}`);
    if (!h.ok) return h;
    headers[name] = h.value;
  }
  let body: string | undefined;
  if (r.body !== undefined) {
    const b = renderFor('json', r.body, ctx, `${field}.body`);
    if (!b.ok) return b;
    body = b.value;
  }
  return { ok: true, value: { ...r, url: url.value, headers, ...(body !== undefined ? { body } : {}) } };
}

/** The pre-typed rendering, for replaying old histories only (see OnRefusal). */
const plainHttpRequest = (r: HttpRequest, ctx: TemplateContext): RenderedHttpRequest => ({
  ...r,
  url: render(r.url, ctx),
  headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, [render(v, ctx)]])),
  ...(r.body !== undefined ? { body: render(r.body, ctx) } : {}),
});

const httpRequestOr = (r: HttpRequest, ctx: TemplateContext, on: OnRefusal, field = 'params'): RenderedHttpRequest => {
  const rendered = renderHttpRequest(r, ctx, field);
  if (rendered.ok) return rendered.value;
  if (on === 'plain') return plainHttpRequest(r, ctx);
  throw refusedFailure(rendered.refusal);
};

/** The verification probes' rendered inputs (URL, PromQL query). */
export function verificationTargets(v: Verification, ctx: TemplateContext, on: OnRefusal = 'throw'): { httpUrl?: string; promqlQuery?: string } {
  return {
    ...(v.http ? { httpUrl: typed('url', v.http.url, ctx, 'verification.http.url', on) } : {}),
    ...(v.promql ? { promqlQuery: typed('promql', v.promql.query, ctx, 'verification.promql.query', on) } : {}),
  };
}

/** The first template of the step (its http/flag params and its verification) whose value cannot
 * be rendered safely, or undefined. Checked before acting, so a refused step touches nothing. */
export function stepRefusal(step: Step, ctx: TemplateContext): RenderRefusal | undefined {
  const tries: (() => unknown)[] = [];
  if (step.action === 'http') tries.push(() => httpRequestOr(step.params, ctx, 'throw'));
  if (step.action === 'flag') tries.push(() => flagActionInput(step, ctx, { idempotencyKey: '', dryRun: true }));
  if (step.verification) tries.push(() => verificationTargets(step.verification!, ctx));
  for (const t of tries) {
    try {
      t();
    } catch (err) {
      const details = (err as ApplicationFailure).details?.[0] as { refusal?: RenderRefusal } | undefined;
      if ((err as ApplicationFailure).type === RENDER_REFUSED && details?.refusal) return details.refusal;
      throw err;
    }
  }
  return undefined;
}

/** A URL for display: rendered for its context, or the template marked as refused. */
const shownUrl = (template: string, ctx: TemplateContext): string => {
  const r = renderFor('url', template, ctx, 'url');
  return r.ok ? r.value : `${template} (refused: ${r.refusal.rule})`;
};

const renderParameters = (p: Record<string, string | string[]>, ctx: TemplateContext): Record<string, string[]> =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).map((x) => render(x, ctx))]));

/** One line naming what the step does, for the timeline and approval requests. */
export function describeAction(step: Step, ctx: TemplateContext): string {
  switch (step.action) {
    case 'http':
      return `${step.params.method} ${shownUrl(step.params.url, ctx)}`;
    case 'ssm-command': {
      const p = step.params;
      const on = [...p.instanceIds.map((i) => render(i, ctx)), ...p.targets.map((t) => `${t.key}=${t.values.join('|')}`)];
      return `SSM Run Command ${p.document} on ${on.join(', ')}`;
    }
    case 'ssm-automation':
      return `SSM Automation ${step.params.document}`;
    case 'kubernetes':
      return describeKubernetes(step.params, ctx);
    case 'flag': {
      const f = flagActionInput(step, ctx, { idempotencyKey: '', dryRun: false }, 'plain');
      return `Unleash flag ${f.feature} → ${f.enabled ? 'on' : 'off'} in ${f.environment} (project ${f.project})`;
    }
    case 'ansible':
      return describeAnsible(step, ctx);
  }
}

type ActOptions = { idempotencyKey: string; dryRun: boolean };
type StepOf<A extends Step['action']> = Extract<Step, { action: A }>;

// Activity inputs, rendered: runAction sends them, `medic simulate` hands them to the same
// activities in dry run.
// Both throw a RenderRefused failure rather than build an input from a value that cannot be placed
// safely ('plain' only while replaying histories recorded before typed rendering).
export const httpActionInput = (step: StepOf<'http'>, ctx: TemplateContext, o: ActOptions, on: OnRefusal = 'throw'): HttpActionInput => ({
  request: httpRequestOr(step.params, ctx, on),
  ...o,
  timeoutMs: toMs(step.timeout),
});

/** Names of the parameters whose value came from a template: the activity requires the document
 * to declare an allowedPattern (or allowedValues) for each. */
const templatedNames = (p: Record<string, string | string[]>): string[] => Object.keys(p).filter((k) => isTemplated(p[k]!));

/** What both SSM inputs carry: the document, its rendered parameters, the allow-list, the options. */
function ssmDocumentInput(step: StepOf<'ssm-command' | 'ssm-automation'>, ctx: TemplateContext, o: ActOptions, allow: Allow): SsmAutomationInput {
  const p = step.params;
  return {
    documentName: p.document,
    ...(p.documentVersion ? { documentVersion: p.documentVersion } : {}),
    parameters: renderParameters(p.parameters, ctx),
    templated: templatedNames(p.parameters),
    ...(allow.ssm ? { allow: allow.ssm } : {}),
    ...o,
    timeoutMs: toMs(step.timeout),
  };
}

export function ssmCommandInput(step: StepOf<'ssm-command'>, ctx: TemplateContext, o: ActOptions, allow: Allow = {}): SsmCommandInput {
  const p = step.params;
  return {
    ...ssmDocumentInput(step, ctx, o, allow),
    instanceIds: p.instanceIds.map((i) => render(i, ctx)),
    targets: p.targets.map((t) => ({ key: t.key, values: t.values.map((v) => render(v, ctx)) })),
  };
}

export const ssmAutomationInput = (step: StepOf<'ssm-automation'>, ctx: TemplateContext, o: ActOptions, allow: Allow = {}): SsmAutomationInput =>
  ssmDocumentInput(step, ctx, o, allow);

/** Rendered SSM values re-validated before the activity is scheduled (instance id format, allow.ssm). */
function refuseBadSsmInput(input: SsmCommandInput | SsmAutomationInput): void {
  const problem = ssmInputProblem(input);
  if (problem) throw ApplicationFailure.create({ type: 'SsmRefused', nonRetryable: true, message: `refused: ${problem}` });
}

/** The `flag` activity's input, rendered (the token stays a secret name). */
export function flagActionInput(
  step: Extract<Step, { action: 'flag' }>,
  ctx: TemplateContext,
  o: { idempotencyKey: string; dryRun: boolean },
  on: OnRefusal = 'throw',
): FlagActionInput {
  const p = step.params;
  return {
    provider: p.provider,
    url: typed('url', p.url, ctx, 'params.url', on),
    project: typed('name', p.project, ctx, 'params.project', on),
    environment: typed('name', p.environment, ctx, 'params.environment', on),
    feature: typed('name', p.feature, ctx, 'params.feature', on),
    enabled: p.enabled,
    tokenSecret: p.tokenSecret,
    ...o,
    timeoutMs: toMs(step.timeout),
  };
}

/** An activity's result as the timeline records it: its summary, duration and `data`. */
const outcome = (r: { summary: string; durationMs: number }, data: Record<string, unknown>): ActionOutcome => ({ summary: r.summary, durationMs: r.durationMs, data });

export async function runAction(
  step: Step,
  ctx: TemplateContext,
  o: ActOptions,
  /** The playbook's target allow-lists (allow.*). */
  allow?: Allow,
  /** The playbook's limits.blastRadius (an ansible step's resolved hosts count against it). */
  blastRadius = 1,
): Promise<ActionOutcome> {
  // A value that cannot be rendered safely fails the step before anything is sent.
  const refused = stepRefusal(step, ctx);
  if (refused) throw refusedFailure(refused);
  const on: OnRefusal = 'throw';
  switch (step.action) {
    case 'http': {
      const r = await proxyActivities<Activities>(actionProfile(step)).httpAction(httpActionInput(step, ctx, o, on));
      return outcome(r, { status: r.status, bodyExcerpt: r.bodyExcerpt });
    }
    case 'ssm-command': {
      const input = ssmCommandInput(step, ctx, o, allow);
      refuseBadSsmInput(input);
      const r = await proxyActivities<Activities>(ssmProfile(step)).ssmRunCommand(input);
      return outcome(r, { commandId: r.commandId, status: r.status, reused: r.reused, invocations: r.invocations });
    }
    case 'ssm-automation': {
      const input = ssmAutomationInput(step, ctx, o, allow);
      refuseBadSsmInput(input);
      const r = await proxyActivities<Activities>(ssmProfile(step)).ssmAutomation(input);
      return outcome(r, { executionId: r.executionId, status: r.status, outputs: r.outputs, failedSteps: r.failedSteps });
    }
    case 'kubernetes':
      return runKubernetes(step, ctx, o, allow?.kubernetes, o.idempotencyKey.replace(/:step-\d+:try-\d+$/, ''));
    case 'flag': {
      const input = flagActionInput(step, ctx, o, on);
      const r = await proxyActivities<Activities>(flagProfile(step)).setFeatureFlag(input);
      const { project, environment, feature } = input;
      return outcome(r, { project, environment, feature, before: r.before, after: r.after, changed: r.changed });
    }
    case 'ansible':
      return runAnsible(step, ctx, o, allow?.ansible, blastRadius);
  }
}
