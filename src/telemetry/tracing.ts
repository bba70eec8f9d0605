/**
 * OpenTelemetry tracing: a tracer provider configured from the validated OTEL_* settings, with the
 * propagators and exporters they name; none at all unless an exporter is configured.
 */
import { credentials as grpcCredentials, Metadata } from '@grpc/grpc-js';
import { context, createNoopMeter, diag, propagation, trace, type Attributes, type Meter, type MeterProvider, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { CompositePropagator, ExportResultCode, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type BufferConfig,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider, type NodeTracerConfig } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { BatchConfig, ExporterName, TelemetryConfig } from '../config/telemetry.js';
import { CountedLog } from '../core/counted-log.js';
import { logLine } from '../core/log-line.js';
import { describeExportFailure, describeTimeout, holdExportFailures, installDiagLogger } from './diag.js';
import { withoutVariables } from './env.js';
import { OpenSpans } from './open-spans.js';

/**
 * How long shutdown waits for the spans of calls cut off at the end of the grace: their handlers
 * stop on the abort within a few turns of the event loop; one that does not is not waited for.
 */
const CUT_OFF_SPANS_WAIT_MS = 1000;

export interface Tracing {
  tracer: Tracer;
  /** Waits for the spans still open, flushes them with the rest (bounded in time; a failure is logged) and stops exporting. */
  shutdown(): Promise<void>;
  /** Spans dropped since start-up because an export queue (OTEL_BSP_MAX_QUEUE_SIZE) was full. */
  droppedSpans(): number;
  /** Spans lost since start-up in exports that failed (the batch processor does not retry a batch). */
  failedSpans(): number;
}

const spanCount = (n: number): string => (n === 1 ? '1 span' : `${n} spans`);

/** A count of spans dropped is written once a minute at most, as OpenTelemetry's repeated messages are. */
const DROPPED_LINE_INTERVAL_MS = 60_000;

/**
 * Counts the spans the batch processors drop because their queue (OTEL_BSP_MAX_QUEUE_SIZE) is
 * full, and says so on stderr: at the first drop, then once a minute at most with the count since
 * the line before, and at shutdown the count since start-up. The SDK itself says so only when a
 * later span finds room in the queue, so that a burst followed by quiet, or by shutdown, lost
 * spans without a word.
 *
 * It learns of each drop through the processors' self-observability meter (the
 * otel.sdk.processor.span.processed counter, with error.type queue_full), their one public
 * account of it.
 */
class DroppedSpans implements MeterProvider {
  private readonly log: CountedLog<'dropped'>;
  private readonly meter: Meter;
  /** Drops written so far. */
  private told = 0;

  constructor(private readonly maxQueueSize: number) {
    this.log = new CountedLog(
      ['dropped'],
      ({ dropped }) => {
        this.told += dropped;
        logLine(`tracing: ${spanCount(dropped)} dropped, the export queue being full (OTEL_BSP_MAX_QUEUE_SIZE=${this.maxQueueSize}); ${this.total} since start-up`);
      },
      DROPPED_LINE_INTERVAL_MS,
    );
    const noop = createNoopMeter();
    const meter: Meter = Object.create(noop) as Meter;
    meter.createCounter = <A extends Attributes>(name: string, options?: Parameters<Meter['createCounter']>[1]) => {
      const counter = noop.createCounter<A>(name, options);
      return Object.assign(Object.create(counter) as typeof counter, {
        add: (value: number, attributes?: A) => {
          if (attributes?.['error.type'] === 'queue_full') this.log.add('dropped', value);
        },
      });
    };
    this.meter = meter;
  }

  get total(): number {
    return this.log.totals.dropped;
  }

  getMeter(): Meter {
    return this.meter;
  }

  /**
   * At shutdown, one line ending in the count since start-up: the drops not yet written, or
   * else the total alone.
   */
  finalCount(): void {
    if (this.total === 0) return;
    if (this.total > this.told) this.log.flush();
    else logLine(`tracing: ${spanCount(this.total)} dropped since start-up, the export queue being full (OTEL_BSP_MAX_QUEUE_SIZE=${this.maxQueueSize})`);
  }

}

/**
 * Counts the spans of exports that failed: a collector down, silent past the exporter's timeout, or
 * still refusing after its retries. The batch processor does not try a failed batch again, so its
 * spans are lost, and the SDK says so once per batch on stderr, without the number of spans.
 */
class FailedExports {
  total = 0;
  /** Spans of exports not answered yet: lost too when the final flush gives up on them. */
  private inFlight = 0;

  /** `exporter`, telling this count of each export that did not succeed. */
  counting(exporter: SpanExporter): SpanExporter {
    return {
      export: (spans, done) => {
        this.inFlight += spans.length;
        exporter.export(spans, (result) => {
          this.inFlight -= spans.length;
          if (result.code !== ExportResultCode.SUCCESS) this.total += spans.length;
          done(result);
        });
      },
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
  }

  /**
   * At exit, what was lost so, as the shutdown lines say it: the spans of failed exports, and of
   * exports still unanswered (spans the processor had not yet handed over are not known here);
   * undefined when there are none.
   */
  summary(): string | undefined {
    const parts = [
      ...(this.total > 0 ? [`${spanCount(this.total)} lost since start-up in exports that failed`] : []),
      ...(this.inFlight > 0 ? [`${spanCount(this.inFlight)} in exports unanswered at exit`] : []),
    ];
    return parts.length === 0 ? undefined : parts.join(', ');
  }
}

/** The SDK's batch processor, telling `dropped` of every span it drops at a full queue. */
function batchProcessor(exporter: SpanExporter, batch: BatchConfig, dropped: DroppedSpans): BatchSpanProcessor {
  // selfObsMeterProvider reaches the processor (the shim passes its config on) though BufferConfig does not name it.
  return new BatchSpanProcessor(exporter, { ...batch, selfObsMeterProvider: dropped } as BufferConfig);
}

function sampler(config: TelemetryConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/** Where OTLP spans go: the endpoint configured, else OpenTelemetry's default, on this machine. */
function otlpUrl(config: TelemetryConfig): string {
  return config.endpoint ?? (config.protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318/v1/traces');
}

type HttpExporterOptions = NonNullable<ConstructorParameters<typeof OtlpProtoExporter>[0]>;
type GrpcExporterOptions = NonNullable<ConstructorParameters<typeof OtlpGrpcExporter>[0]>;

function exporter(name: ExporterName, config: TelemetryConfig): SpanExporter {
  if (name === 'console') return new ConsoleSpanExporter();
  // Everything the exporter would read from OTEL_EXPORTER_OTLP_* is given, as validated, and it
  // does not see those variables: read raw, an endpoint with a blank after it sent spans to
  // localhost, a second '/' stayed in the path, and a bad timeout or certificate file was a warning.
  const url = otlpUrl(config);
  const { ca, cert, key } = config.otlpTls;
  return withoutVariables(
    (variable) => variable.startsWith('OTEL_EXPORTER_OTLP_'),
    () => {
      const shared = { url, timeoutMillis: config.otlpTimeoutMillis, compression: config.compression as HttpExporterOptions['compression'] };
      if (config.protocol === 'grpc') {
        const metadata = new Metadata();
        for (const [name, value] of Object.entries(config.headers)) metadata.set(name, value);
        // Given, the credentials are what config.grpcTls says, whatever the URL's scheme looks like.
        const credentials = config.grpcTls ? grpcCredentials.createSsl(ca ?? null, key ?? null, cert ?? null) : grpcCredentials.createInsecure();
        return new OtlpGrpcExporter({ ...shared, compression: shared.compression as GrpcExporterOptions['compression'], metadata, credentials });
      }
      // Kept alive, as the exporter's own agent is; the exporter leaves ca, cert and key out for http://.
      const options: HttpExporterOptions = { ...shared, headers: { ...config.headers }, httpAgentOptions: { keepAlive: true, ca, cert, key } };
      return config.protocol === 'http/json' ? new OtlpJsonExporter(options) : new OtlpProtoExporter(options);
    },
  );
}

/** OTEL_PROPAGATORS; none registers nothing, so incoming context is ignored and every call starts a trace. */
function propagator(config: TelemetryConfig): TextMapPropagator | null {
  if (config.propagators.length === 0) return null;
  return new CompositePropagator({
    propagators: config.propagators.map((name) => (name === 'tracecontext' ? new W3CTraceContextPropagator() : new W3CBaggagePropagator())),
  });
}

/**
 * Exports the spans still buffered and stops the exporter, waiting at most the export timeout: a
 * collector that is down or slow must neither fail the service's exit nor hold it up. A failure
 * is logged, not thrown, with the count of spans lost in failed exports; true when it was logged.
 */
async function finalFlush(provider: NodeTracerProvider, timeoutMs: number, failed: FailedExports): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const TIMED_OUT = Symbol('timed out');
  // The batch processor bounds each batch, but not the exporter's wait for exports still in flight.
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  // An export still in flight fails on its own too: one line says what was lost, and why.
  const failures = holdExportFailures();
  const reasons: string[] = [];
  try {
    // When the collector gave no answer, what the exporter met meanwhile (a refused connection) is the cause to name.
    if ((await Promise.race([provider.shutdown(), deadline])) === TIMED_OUT) reasons.push(describeTimeout());
  } catch (error) {
    reasons.push(describeExportFailure(error));
  } finally {
    clearTimeout(timer);
    reasons.unshift(...failures.release());
  }
  // A batch that timed out and the deadline say the same: once.
  if (reasons.length === 0) return false;
  const lost = failed.summary();
  diag.error(`spans not exported at shutdown: ${[...new Set(reasons)].join('; ')}${lost === undefined ? '' : ` (${lost})`}`);
  return true;
}

/**
 * Whether spans are recorded and where they go, for the start-up log: exporters, protocol and
 * endpoint, without credentials (headers are never shown, nor a user and password in the URL).
 */
export function describeTracing(config: TelemetryConfig): string {
  if (config.disabled) return 'tracing off (OTEL_SDK_DISABLED=true)';
  if (config.exporters.length === 0) return 'tracing off: no exporter (set OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_TRACES_EXPORTER)';
  const to = config.exporters.map((name) => {
    if (name === 'console') return 'console (stdout)';
    const endpoint = otlpUrl(config);
    const shown = `OTLP ${config.protocol} to ${withoutCredentials(endpoint)}`;
    if (config.protocol !== 'grpc') return shown;
    // gRPC to host:port or unix:// is TLS unless OTEL_EXPORTER_OTLP_(TRACES_)INSECURE=true: a
    // plaintext collector then refuses every export with a bare "Protocol error".
    if (!config.grpcTls) return `${shown} in plaintext`;
    return endpoint.startsWith('https://') ? `${shown} over TLS` : `${shown} over TLS (plaintext with OTEL_EXPORTER_OTLP_INSECURE=true or an http:// endpoint)`;
  });
  return `tracing on: spans to ${to.join(' and ')}, sampler ${config.sampler}`;
}

/**
 * The endpoint's scheme, host, port and path: a user and password, and a query string (where some
 * vendors put an API key), are left out. A gRPC endpoint may come without a scheme.
 */
function withoutCredentials(endpoint: string): string {
  const schemeless = !/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint);
  try {
    const url = new URL(schemeless ? `https://${endpoint}` : endpoint);
    const shown = `${url.host}${url.pathname === '/' && !endpoint.endsWith('/') ? '' : url.pathname}${url.search === '' ? '' : '?…'}`;
    return schemeless ? shown : `${url.protocol}//${shown}`;
  } catch {
    return '(an endpoint that is no URL)';
  }
}

export function startTracing(config: TelemetryConfig, serviceVersion: string): Tracing {
  installDiagLogger(config.logLevel, { protocol: config.protocol, exportTimeoutMillis: config.batch.exportTimeoutMillis });
  // Spans nobody exports are pure cost: without an exporter the API's no-op tracer stays in place,
  // and incoming context is read by no one (harmless: calls just carry no span).
  if (config.disabled || config.exporters.length === 0) {
    return { tracer: trace.getTracer('rs3gw-observability', serviceVersion), shutdown: async () => {}, droppedSpans: () => 0, failedSpans: () => 0 };
  }
  const openSpans = new OpenSpans();
  const dropped = new DroppedSpans(config.batch.maxQueueSize);
  const failed = new FailedExports();
  const options: NodeTracerConfig = {
    // The SDK's own resource names it (telemetry.sdk.name, .language, .version); ours wins where both say.
    resource: defaultResource().merge(
      resourceFromAttributes({
        ...config.resourceAttributes,
        [ATTR_SERVICE_NAME]: config.serviceName,
        [ATTR_SERVICE_VERSION]: serviceVersion,
      }),
    ),
    sampler: sampler(config),
    spanProcessors: [openSpans, ...config.exporters.map((name) => batchProcessor(failed.counting(exporter(name, config)), config.batch, dropped))],
  };
  // The provider builds a sampler of its own from OTEL_TRACES_SAMPLER(_ARG) before the one given
  // here replaces it, and says what it makes of them (a fallback for ALWAYS_OFF, "ARG is blank"
  // where the README says the ratio defaults to 1): it is not shown them.
  const provider = withoutVariables((variable) => variable === 'OTEL_TRACES_SAMPLER' || variable === 'OTEL_TRACES_SAMPLER_ARG', () => new NodeTracerProvider(options));
  provider.register({ propagator: propagator(config) });
  return {
    tracer: trace.getTracer('rs3gw-observability', serviceVersion),
    droppedSpans: () => dropped.total,
    failedSpans: () => failed.total,
    async shutdown() {
      await openSpans.allEnded(CUT_OFF_SPANS_WAIT_MS);
      const reported = await finalFlush(provider, config.batch.exportTimeoutMillis, failed);
      dropped.finalCount();
      const lost = failed.summary();
      // The count ends the final flush's failure line when there is one; OTEL_LOG_LEVEL=none
      // silences that line, not the count.
      if (lost !== undefined && (!reported || config.logLevel === 'none')) logLine(`tracing: ${lost}`);
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
