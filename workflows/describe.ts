// The decision core's renderers (src/incident/types.ts Describer) over the playbook layer: what a
// step does, what it refuses, what it verifies, what a page says. Pure; the workflow and
// `medic simulate` both hand these to the core, so both describe an incident the same way.
import type { Describer, IncidentEnv } from '../src/incident/types.js';
import { modeOf } from '../src/policy/plan.js';
import type { TemplateContext } from '../src/playbooks/template.js';
import { describeAction, renderHttpRequest, stepRefusal, verificationTargets } from './actions.js';
import { describeKubernetesCheck, kubernetesCheck, kubernetesRefusal } from './kubernetes.js';
import { ansibleStepRefusal } from './ansible.js';
import { buildPage, type PageContext } from './page.js';
import type { RunningIncidentInput } from './contracts.js';

export function describer(input: RunningIncidentInput, ctx: TemplateContext, page: PageContext): Describer {
  const pb = input.playbook;
  return {
    action: (step) => describeAction(step, ctx),
    renderRefusal: (step) => stepRefusal(step, ctx),
    targetRefusal: (step) => kubernetesRefusal(step, ctx, pb.allow?.kubernetes) ?? ansibleStepRefusal(step, ctx, pb.allow?.ansible),
    verification: (step) => {
      const v = step.verification!;
      const probe = verificationTargets(v, ctx, 'plain'); // refused values fail the step before it acts
      return [
        v.http ? `${v.http.method} ${probe.httpUrl}` : '',
        v.promql ? `PromQL ${probe.promqlQuery}` : '',
        v.kubernetes ? describeKubernetesCheck(kubernetesCheck(v.kubernetes, ctx)) : '',
      ]
        .filter(Boolean)
        .join(' and ');
    },
    webhookRefusal: (rung, i) => {
      const rendered = renderHttpRequest(rung.request, ctx, `escalation.${i}.request`);
      return rendered.ok ? undefined : rendered.refusal;
    },
    page: (s, at) => buildPage(s, input, page, at),
  };
}

/** The decision core's env for one run of an incident. */
export function incidentEnv(o: {
  input: RunningIncidentInput;
  incidentId: string;
  workflowId: string;
  options: IncidentEnv['options'];
  namespace?: string;
  temporalUiUrl?: string;
}): IncidentEnv {
  const { input } = o;
  const ctx: TemplateContext = {
    incident: { id: o.incidentId, workflowId: o.workflowId },
    labels: input.alert.labels,
    annotations: input.alert.annotations,
    target: input.target,
  };
  const page = { workflowId: o.workflowId, namespace: o.namespace ?? 'default', ...(o.temporalUiUrl ? { temporalUiUrl: o.temporalUiUrl } : {}) };
  return {
    playbook: input.playbook,
    mode: modeOf(input.playbook),
    target: input.target,
    incidentId: o.incidentId,
    alert: input.alert,
    ctx,
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    options: o.options,
    describe: describer(input, ctx, page),
  };
}
