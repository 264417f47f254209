// OpenTelemetry tracing, on only when configured (`tracing.otlpEndpoint`, MEDIC_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_ENDPOINT). An incident is one trace: the webhook's HTTP server span (HTTP
// instrumentation) → the intake's signalWithStart (Temporal client interceptor, which puts the
// span context into the workflow's start headers) → the incident workflow's spans (workflow
// interceptors in workflows/tracing.ts, exported through a sink) → each activity's span (activity
// interceptor) → the governor Updates those activities call. Spans go out over OTLP/HTTP (JSON).
import { createRequire } from 'node:module';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { Sinks } from '@temporalio/workflow';
import type { Config } from './config.js';

type TracingConfig = NonNullable<Config['tracing']>;

/** What a worker adds to its Temporal workers: the workflow span sink and activity interceptors. */
export interface WorkerTracing {
  sinks: InjectedSinks<Sinks>;
  activityInterceptors: ActivityInterceptorsFactory[];
}

export interface Tracing {
  /** Interceptors for every Temporal Client of the process (they start and signal workflows). */
  clientInterceptors: WorkflowClientInterceptor[];
  worker: WorkerTracing;
  /** Sends what is buffered (tests, and before exit). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** A workflow started with a trace context calls the `exporter` sink even on a worker whose
 * tracing is off (e.g. turned off since): such calls are dropped here instead of being logged as
 * calls to an unregistered sink. */
export const NO_TRACING: WorkerTracing = {
  sinks: { exporter: { export: { fn: () => undefined, callDuringReplay: false } } },
  activityInterceptors: [],
};

const PROBE_PATHS = /^\/(healthz|readyz|metrics)(\?|$)/;

/**
 * Starts tracing for this process (`role` names it: medic-server, medic-worker), or returns
 * undefined when it is not configured. Call it before the HTTP server starts listening.
 */
export function startTracing(config: TracingConfig | undefined, role: 'server' | 'worker'): Tracing | undefined {
  if (!config) return undefined;
  const endpoint = new URL('v1/traces', config.otlpEndpoint.endsWith('/') ? config.otlpEndpoint : `${config.otlpEndpoint}/`);
  const resource = resourceFromAttributes({ 'service.name': `${config.serviceName}-${role}`, 'service.namespace': config.serviceName });
  const processor: SpanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint.href }), { scheduledDelayMillis: 1_000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register(); // global tracer provider, AsyncLocalStorage context, W3C trace-context propagation

  const collector = { host: endpoint.hostname, port: endpoint.port || (endpoint.protocol === 'https:' ? '443' : '80') };
  const disableInstrumentations = registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        // probes and scrapes would be most of the spans and none of the story
        ignoreIncomingRequestHook: (req: IncomingMessage) => PROBE_PATHS.test(req.url ?? ''),
        // the exporter's own requests must not be traced (each would produce another span to export)
        ignoreOutgoingRequestHook: (req: RequestOptions) => req.hostname === collector.host && String(req.port ?? '') === collector.port,
        requestHook: (span, req) => {
          const path = 'url' in req ? (req as IncomingMessage).url : (req as ClientRequest).path;
          if (path) span.updateName(`${'method' in req ? req.method : 'HTTP'} ${path.split('?')[0]}`);
        },
      }),
    ],
  });
  // The instrumentation patches `http` when it is next required: fastify (CommonJS) may have
  // required it before this ran, so require it once more to apply the patch now.
  const require = createRequire(import.meta.url);
  require('node:http');
  require('node:https');

  const options = {};
  return {
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor(options)],
    worker: {
      sinks: { exporter: makeWorkflowExporter(workflowSpanProcessor(processor, resource), legacyResource(resource)) } as WorkerTracing['sinks'],
      activityInterceptors: [
        (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, options), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
      ],
    },
    flush: () => provider.forceFlush(),
    async shutdown() {
      disableInstrumentations();
      await provider.shutdown();
      trace.disable();
    },
  };
}

// The Temporal interceptors (1.x SDK line) still speak OpenTelemetry SDK 1: workflow spans reach
// the worker in SDK 1's ReadableSpan shape (`parentSpanId`, `instrumentationLibrary`), which SDK
// 2's OTLP exporter cannot read (`parentSpanContext`, `instrumentationScope`). This processor, in
// the shape the interceptors expect, converts each span and hands it to our SDK 2 processor.
type LegacyProcessor = Parameters<typeof makeWorkflowExporter>[0] & { onEnd: unknown };
type LegacySpan = Parameters<LegacyProcessor['onEnd']>[0];
type LegacyResource = Parameters<typeof makeWorkflowExporter>[1];

/** Converts one workflow span from the interceptors' SDK 1 shape to SDK 2's ReadableSpan. */
function fromLegacySpan(span: LegacySpan, resource: Resource): ReadableSpan {
  const context = span.spanContext();
  const { parentSpanId, instrumentationLibrary } = span;
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => context,
    parentSpanContext: parentSpanId ? { traceId: context.traceId, spanId: parentSpanId, traceFlags: context.traceFlags } : undefined,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: span.attributes,
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource,
    instrumentationScope: instrumentationLibrary,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

function workflowSpanProcessor(processor: SpanProcessor, resource: Resource): LegacyProcessor {
  return {
    onStart: () => undefined,
    onEnd: (span: LegacySpan) => processor.onEnd(fromLegacySpan(span, resource)),
    forceFlush: () => processor.forceFlush(),
    shutdown: async () => undefined, // the provider shuts the real processor down
  } as LegacyProcessor;
}

/** The interceptors attach this resource to each span; fromLegacySpan replaces it with ours. */
function legacyResource(resource: Resource): LegacyResource {
  return resource as unknown as LegacyResource;
}
