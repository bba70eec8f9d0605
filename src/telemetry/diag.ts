/**
 * OpenTelemetry's own log on stderr, one line a message, at OTEL_LOG_LEVEL: without a logger the
 * SDK says nothing, and a collector that is down or a wrong endpoint would lose every span unseen.
 * The same message is written once a minute at most, with the count of its repeats.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
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

/** When each message was last written, and how often it came since. */
const written = new Map<string, { atMs: number; since: number }>();

/** The line to write for `text`, or undefined while it repeats within REPEAT_INTERVAL_MS. */
function throttled(text: string): string | undefined {
  const now = performance.now();
  const last = written.get(text);
  if (last && now - last.atMs < REPEAT_INTERVAL_MS) {
    last.since += 1;
    return undefined;
  }
  written.delete(text);
  if (written.size >= MAX_FOLLOWED_MESSAGES) written.delete(written.keys().next().value!);
  written.set(text, { atMs: now, since: 0 });
  return last && last.since > 0 ? `${text} (and ${last.since} times more in the last ${Math.round((now - last.atMs) / 1000)} s)` : text;
}

function writer(level: string) {
  return (message: string, ...args: unknown[]) => {
    // An Error is its one-line description, not its stack.
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
  const message = error.message || error.name;
  return typeof status === 'number' ? `${message} (HTTP ${status})` : message;
}

/**
 * A failed export in one line, with what to do when the endpoint answered something that is not
 * HTTP (Node's parser errors are HPE_*): that is an OTLP/gRPC port, such as 4317, sent OTLP/HTTP.
 */
export function describeExportFailure(error: unknown, protocol: TelemetryConfig['protocol']): string {
  const text = describeError(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (protocol === 'grpc' || typeof code !== 'string' || !code.startsWith('HPE_')) return text;
  return `${text} (the endpoint did not answer HTTP; if it is OTLP/gRPC, such as port 4317, set OTEL_EXPORTER_OTLP_PROTOCOL=grpc)`;
}

/** Export failures held back while the final flush runs, which reports them with its own outcome. */
let heldFailures: string[] | undefined;

export function installDiagLogger(level: LogLevelName, protocol: TelemetryConfig['protocol']): void {
  diag.setLogger(stderrLogger, { logLevel: LEVELS[level], suppressOverrideMessage: true });
  // The batch processor hands each failed export to this handler (once a batch, not once a span);
  // the default one prints the error as JSON, stack trace included.
  setGlobalErrorHandler((error) => {
    const text = describeExportFailure(error, protocol);
    if (heldFailures) heldFailures.push(text);
    else diag.error(`span export failed: ${text}`);
  });
}

/** From now on export failures are held, not logged; `release` returns them, each once. */
export function holdExportFailures(): { release(): string[] } {
  heldFailures = [];
  return {
    release() {
      const failures = [...new Set(heldFailures)];
      heldFailures = undefined;
      return failures;
    },
  };
}
