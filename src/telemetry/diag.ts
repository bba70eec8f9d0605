/**
 * OpenTelemetry's own log on stderr, one line a message, at OTEL_LOG_LEVEL: without a logger the
 * SDK says nothing, and a collector that is down or a wrong endpoint would lose every span unseen.
 * The same message is written once a minute at most, with the count of its repeats.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { formatWithOptions } from 'node:util';
import type { LogLevelName, TelemetryConfig } from '../config/telemetry.js';
import { logLine } from '../core/log-line.js';

const LEVELS: Record<LogLevelName, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** A message repeated within this long is counted, not written: a dead collector fails every export. */
const REPEAT_INTERVAL_MS = 60_000;
/** Distinct messages followed at most (the oldest is forgotten first). */
const MAX_FOLLOWED_MESSAGES = 100;

/** When each message was last written, and how often it came since, by repeatKey. */
const written = new Map<string, { atMs: number; since: number }>();

/**
 * Timestamps some messages carry, which make every repeat of the same failure look new: grpc-js
 * puts one in its connection errors ("Protocol error (2026-12-06T23:13:04.860Z)").
 */
const TIMESTAMP = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g;

/** What makes two messages the same one for the repeat limit: their text, timestamps left out. */
function repeatKey(text: string): string {
  return text.replace(TIMESTAMP, '…');
}

/** The line to write for `text`, or undefined while it repeats within REPEAT_INTERVAL_MS. */
function throttled(text: string): string | undefined {
  const now = performance.now();
  const key = repeatKey(text);
  const last = written.get(key);
  if (last && now - last.atMs < REPEAT_INTERVAL_MS) {
    last.since += 1;
    return undefined;
  }
  written.delete(key);
  if (written.size >= MAX_FOLLOWED_MESSAGES) written.delete(written.keys().next().value!);
  written.set(key, { atMs: now, since: 0 });
  return last && last.since > 0 ? `${text} (and ${last.since} times more in the last ${Math.round((now - last.atMs) / 1000)} s)` : text;
}

/**
 * The SDK's own word on spans dropped at a full queue, which comes only when a later span finds
 * room, so that a burst followed by quiet or by shutdown went unsaid: the service counts the
 * drops itself and says so (tracing.ts), and this message would repeat it.
 */
const SDK_DROP_MESSAGES = /^(Dropped \d+ spans because maxQueueSize reached|maxQueueSize reached, dropping spans)$/;

function writer(level: string) {
  return (message: string, ...args: unknown[]) => {
    // An Error is its one-line description, not its stack.
    if (SDK_DROP_MESSAGES.test(message)) return;
    const text = formatWithOptions({ breakLength: Infinity }, message, ...args.map((a) => (a instanceof Error ? describeError(a) : a)));
    // logLine flattens what it writes; the throttle keys on the text, which needs no flattening.
    const line = throttled(text);
    if (line !== undefined) logLine(`OpenTelemetry ${level}: ${line}`);
  };
}

const stderrLogger: DiagLogger = {
  error: writer('error'),
  warn: writer('warn'),
  info: writer('info'),
  debug: writer('debug'),
  verbose: writer('verbose'),
};

/** What went wrong, in one line: an OTLP/HTTP refusal with its status, a network error with its message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node reports a refused connection to every address of a name (localhost: ::1 and 127.0.0.1) as one AggregateError without a message.
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(describeError).join('; ');
  const status = error.name === 'OTLPExporterError' ? (error as Error & { code?: unknown }).code : undefined;
  return typeof status === 'number' ? describeRefusal(status, error.message) : error.message || error.name;
}

/**
 * What the OTLP/HTTP exporter last met on the wire, seen through Node's HTTP client diagnostics
 * channels: the exporter retries a refused connection or a 429/502/503/504 until its own timeout,
 * and what it hands over at the end ("Export failed with retryable status", or the batch
 * processor's bare "Timeout" when OTEL_BSP_EXPORT_TIMEOUT runs out first) no longer says why.
 * Undefined after an answer in 2xx.
 */
let lastWireFailure: { text: string; refusal: boolean; atMs: number } | undefined;

/** A collector's answer outside 2xx, in one line: its reason phrase (which HTTP/1.1 lets it leave empty) and status. */
function describeRefusal(status: number, reason: string | undefined): string {
  return reason ? `${reason} (HTTP ${status})` : `HTTP ${status}`;
}

/** The exporters name themselves in User-Agent; the service makes no other HTTP requests, but this keeps it certain. */
function fromExporter(request: ClientRequest): boolean {
  return String(request.getHeader('user-agent') ?? '').includes('OTel-OTLP-Exporter-JavaScript');
}

let watching = false;

function watchExporterRequests(): void {
  if (watching) return;
  watching = true;
  subscribe('http.client.request.error', (message) => {
    const { request, error } = message as { request: ClientRequest; error: unknown };
    if (fromExporter(request)) lastWireFailure = { text: describeExportFailure(error), refusal: false, atMs: performance.now() };
  });
  subscribe('http.client.response.finish', (message) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    if (!fromExporter(request)) return;
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) lastWireFailure = undefined;
    else lastWireFailure = { text: describeRefusal(status, response.statusMessage), refusal: true, atMs: performance.now() };
  });
}

/** What the exporter met on the wire within the last `ms`, in one line; undefined if nothing failed. */
function recentWireFailure(ms: number): string | undefined {
  return lastWireFailure && performance.now() - lastWireFailure.atMs <= ms ? lastWireFailure.text : undefined;
}

/** Settings a failure's description names. */
interface ExportSettings {
  protocol: TelemetryConfig['protocol'];
  exportTimeoutMillis: number;
}

let settings: ExportSettings = { protocol: 'http/protobuf', exportTimeoutMillis: 30_000 };

/**
 * An export that got no answer within OTEL_BSP_EXPORT_TIMEOUT, and what the exporter was
 * meeting meanwhile when that is known (a refused connection, a 503 it was retrying): the cause
 * first, rather than a timeout that is only its consequence.
 */
export function describeTimeout(): string {
  const limit = `OTEL_BSP_EXPORT_TIMEOUT (${settings.exportTimeoutMillis} ms)`;
  const cause = recentWireFailure(settings.exportTimeoutMillis);
  return cause !== undefined ? `${cause}; the exporter was still retrying when ${limit} ran out` : `no answer from the collector within ${limit}`;
}

/** The batch processor's own error when OTEL_BSP_EXPORT_TIMEOUT runs out, which says no more. */
function isBatchTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'Error' && error.message === 'Timeout';
}

/** The delegate's error for an export still refused with 429, 502, 503 or 504 after its retries, without the status. */
function isRetryableRefusal(error: unknown): boolean {
  return error instanceof Error && error.name === 'OTLPExporterError' && error.message === 'Export failed with retryable status';
}

/**
 * A failed export in one line, with what to do when the endpoint answered something that is not
 * HTTP (Node's parser errors are HPE_*): that is an OTLP/gRPC port, such as 4317, sent OTLP/HTTP.
 */
export function describeExportFailure(error: unknown, protocol: TelemetryConfig['protocol'] = settings.protocol): string {
  if (isBatchTimeout(error)) return describeTimeout();
  if (isRetryableRefusal(error)) {
    // The exporter gave up within its own timeout (OTEL_EXPORTER_OTLP_TIMEOUT): the refusal it met is recent.
    const cause = lastWireFailure?.refusal ? lastWireFailure.text : 'the collector refused the export with a status meaning "retry later"';
    return `${cause}, still after the exporter's retries`;
  }
  const text = describeError(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (protocol === 'grpc' || typeof code !== 'string' || !code.startsWith('HPE_')) return text;
  return `${text} (the endpoint did not answer HTTP; if it is OTLP/gRPC, such as port 4317, set OTEL_EXPORTER_OTLP_PROTOCOL=grpc)`;
}

/**
 * Export failures held back while the final flush runs, which reports them with its own outcome.
 * A batch timeout is kept as such and described at release, as the flush's own timeout is: what
 * the exporter met in between (a hang-up) made the two read differently, and both were written.
 */
const BATCH_TIMEOUT = Symbol('batch timeout');
let heldFailures: Array<string | typeof BATCH_TIMEOUT> | undefined;

export function installDiagLogger(level: LogLevelName, exportSettings: ExportSettings): void {
  settings = exportSettings;
  diag.setLogger(stderrLogger, { logLevel: LEVELS[level], suppressOverrideMessage: true });
  if (exportSettings.protocol !== 'grpc') watchExporterRequests();
  // The batch processor hands each failed export to this handler (once a batch, not once a span);
  // the default one prints the error as JSON, stack trace included.
  setGlobalErrorHandler((error) => {
    if (heldFailures) heldFailures.push(isBatchTimeout(error) ? BATCH_TIMEOUT : describeExportFailure(error));
    else diag.error(`span export failed: ${describeExportFailure(error)}`);
  });
}

/** From now on export failures are held, not logged; `release` returns them, each once, a timeout as describeTimeout() says it then. */
export function holdExportFailures(): { release(): string[] } {
  heldFailures = [];
  return {
    release() {
      const failures = [...new Set(heldFailures?.map((failure) => (failure === BATCH_TIMEOUT ? describeTimeout() : failure)))];
      heldFailures = undefined;
      return failures;
    },
  };
}
