// A step's action, rendered and run through the activity of its kind. Deterministic workflow code:
// templates are rendered here, {{secret.*}} placeholders are left for the activity.
import { ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { FlagActionInput } from '../activities/flags.js';
import type { HttpActionInput } from '../activities/http.js';
import type { SsmAutomationInput, SsmCommandInput } from '../activities/ssm.js';
import { toMs } from '../src/playbooks/duration.js';
import type { Allow } from '../src/playbooks/allow.js';
import type { HttpRequest, Step } from '../src/playbooks/schema.js';
import { isTemplated, ssmInputProblem } from '../src/playbooks/ssm-guard.js';
import { render, renderRecord, type TemplateContext } from '../src/playbooks/template.js';
import { actionProfile, flagProfile, ssmProfile } from './profiles.js';
import { describeKubernetes, runKubernetes } from './kubernetes.js';

export interface ActionOutcome {
  summary: string;
  durationMs: number;
  /** What goes into the timeline entry's data (status, output, ids). */
  data: Record<string, unknown>;
}

export const renderHttpRequest = (r: HttpRequest, ctx: TemplateContext): HttpRequest => ({
  ...r,
  url: render(r.url, ctx),
  headers: renderRecord(r.headers, ctx),
  ...(r.body !== undefined ? { body: render(r.body, ctx) } : {}),
});

const renderParameters = (p: Record<string, string | string[]>, ctx: TemplateContext): Record<string, string[]> =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).map((x) => render(x, ctx))]));

/** One line naming what the step does, for the timeline and approval requests. */
export function describeAction(step: Step, ctx: TemplateContext): string {
  switch (step.action) {
    case 'http':
      return `${step.params.method} ${render(step.params.url, ctx)}`;
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
      const f = flagActionInput(step, ctx, { idempotencyKey: '', dryRun: false });
      return `Unleash flag ${f.feature} → ${f.enabled ? 'on' : 'off'} in ${f.environment} (project ${f.project})`;
    }
  }
}

type ActOptions = { idempotencyKey: string; dryRun: boolean };
type StepOf<A extends Step['action']> = Extract<Step, { action: A }>;

// Activity inputs, rendered: runAction sends them, `medic simulate` hands them to the same
// activities in dry run.
export const httpActionInput = (step: StepOf<'http'>, ctx: TemplateContext, o: ActOptions): HttpActionInput => ({
  request: renderHttpRequest(step.params, ctx),
  ...o,
  timeoutMs: toMs(step.timeout),
});

/** Names of the parameters whose value came from a template: the activity requires the document
 * to declare an allowedPattern (or allowedValues) for each. */
const templatedNames = (p: Record<string, string | string[]>): string[] => Object.keys(p).filter((k) => isTemplated(p[k]!));

export function ssmCommandInput(step: StepOf<'ssm-command'>, ctx: TemplateContext, o: ActOptions, allow: Allow = {}): SsmCommandInput {
  const p = step.params;
  return {
    documentName: p.document,
    ...(p.documentVersion ? { documentVersion: p.documentVersion } : {}),
    parameters: renderParameters(p.parameters, ctx),
    templated: templatedNames(p.parameters),
    instanceIds: p.instanceIds.map((i) => render(i, ctx)),
    targets: p.targets.map((t) => ({ key: t.key, values: t.values.map((v) => render(v, ctx)) })),
    ...(allow.ssm ? { allow: allow.ssm } : {}),
    ...o,
    timeoutMs: toMs(step.timeout),
  };
}

export function ssmAutomationInput(step: StepOf<'ssm-automation'>, ctx: TemplateContext, o: ActOptions, allow: Allow = {}): SsmAutomationInput {
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

/** Rendered SSM values re-validated before the activity is scheduled (instance id format,
 * allow.ssm); patched so histories from before the check replay unchanged. */
function refuseBadSsmInput(input: SsmCommandInput | SsmAutomationInput): void {
  if (!patched('ssm-input-check')) return;
  const problem = ssmInputProblem(input);
  if (problem) throw ApplicationFailure.create({ type: 'SsmRefused', nonRetryable: true, message: `refused: ${problem}` });
}

/** The `flag` activity's input, rendered (the token stays a secret name). */
export function flagActionInput(
  step: Extract<Step, { action: 'flag' }>,
  ctx: TemplateContext,
  o: { idempotencyKey: string; dryRun: boolean },
): FlagActionInput {
  const p = step.params;
  return {
    provider: p.provider,
    url: render(p.url, ctx),
    project: render(p.project, ctx),
    environment: render(p.environment, ctx),
    feature: render(p.feature, ctx),
    enabled: p.enabled,
    tokenSecret: p.tokenSecret,
    ...o,
    timeoutMs: toMs(step.timeout),
  };
}

export async function runAction(
  step: Step,
  ctx: TemplateContext,
  o: ActOptions,
  /** The playbook's target allow-lists (allow.*). */
  allow?: Allow,
): Promise<ActionOutcome> {
  switch (step.action) {
    case 'http': {
      const r = await proxyActivities<Activities>(actionProfile(step)).httpAction(httpActionInput(step, ctx, o));
      return { summary: r.summary, durationMs: r.durationMs, data: { status: r.status, bodyExcerpt: r.bodyExcerpt } };
    }
    case 'ssm-command': {
      const input = ssmCommandInput(step, ctx, o, allow);
      refuseBadSsmInput(input);
      const r = await proxyActivities<Activities>(ssmProfile(step)).ssmRunCommand(input);
      return {
        summary: r.summary,
        durationMs: r.durationMs,
        data: { commandId: r.commandId, status: r.status, reused: r.reused, invocations: r.invocations },
      };
    }
    case 'ssm-automation': {
      const input = ssmAutomationInput(step, ctx, o, allow);
      refuseBadSsmInput(input);
      const r = await proxyActivities<Activities>(ssmProfile(step)).ssmAutomation(input);
      return {
        summary: r.summary,
        durationMs: r.durationMs,
        data: { executionId: r.executionId, status: r.status, outputs: r.outputs, failedSteps: r.failedSteps },
      };
    }
    case 'kubernetes':
      return runKubernetes(step, ctx, o, allow?.kubernetes);
    case 'flag': {
      const input = flagActionInput(step, ctx, o);
      const r = await proxyActivities<Activities>(flagProfile(step)).setFeatureFlag(input);
      const { project, environment, feature } = input;
      return { summary: r.summary, durationMs: r.durationMs, data: { project, environment, feature, before: r.before, after: r.after, changed: r.changed } };
    }
  }
}
