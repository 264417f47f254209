// Workflow interceptors for OpenTelemetry tracing (bundled with every worker's workflow code).
// They act only for a workflow whose start carried a trace context — the client interceptor adds
// one when tracing is configured — so the decision comes from the workflow's history: its
// replays decide the same, and a workflow started without tracing (every history recorded
// before tracing existed) runs and replays exactly as if no interceptor were there.
import type { WorkflowInterceptors } from '@temporalio/workflow';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';

/** The header the OpenTelemetry client and workflow interceptors carry the span context in. */
export const TRACE_HEADER = '_tracer-data';

type Method = (input: unknown, next: (input: unknown) => unknown) => unknown;

/** An interceptor with every method of `target`, delegating while `active()`, else passing through. */
function gated<T extends object>(target: T, active: () => boolean): T {
  const proto = Object.getPrototypeOf(target) as Record<string, unknown>;
  const out: Record<string, Method> = {};
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor' || typeof proto[name] !== 'function') continue;
    const method = proto[name] as Method;
    out[name] = (input, next) => (active() ? method.call(target, input, next) : next(input));
  }
  return out as unknown as T;
}

// Called once per workflow instance (and again when a replay rebuilds it), so `traced` is this
// workflow's own state.
export const interceptors = (): WorkflowInterceptors => {
  let traced = false;
  const inbound = new OpenTelemetryInboundInterceptor();
  const gatedInbound = gated(inbound, () => traced);
  return {
    inbound: [
      {
        ...gatedInbound,
        execute(input, next) {
          traced = TRACE_HEADER in input.headers;
          return traced ? inbound.execute(input, next) : next(input);
        },
      },
    ],
    outbound: [gated(new OpenTelemetryOutboundInterceptor(), () => traced)],
    internals: [gated(new OpenTelemetryInternalsInterceptor(), () => traced)],
  };
};
