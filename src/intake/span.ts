// The intake's own span (a child of the webhook's HTTP span, the parent of the Temporal client's
// SignalWithStart span), so a trace says which playbook and incident an alert went to. Uses only
// the OpenTelemetry API: without tracing configured (src/tracing.ts) it is a no-op.
import { SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

const tracer = trace.getTracer('medic');

export function intakeSpan<T>(attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan('medic.intake', { attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
