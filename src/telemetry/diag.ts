/**
 * OpenTelemetry's own log on stderr, one line a message, at OTEL_LOG_LEVEL: without a logger the
 * SDK says nothing, and a collector that is down or a wrong endpoint would lose every span unseen.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { formatWithOptions } from 'node:util';
import type { LogLevelName } from '../config/telemetry.js';

const LEVELS: Record<LogLevelName, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

function writer(level: string) {
  return (message: string, ...args: unknown[]) => {
    process.stderr.write(`rs3gw-obs: OpenTelemetry ${level}: ${formatWithOptions({ breakLength: Infinity }, message, ...args)}\n`);
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

export function installDiagLogger(level: LogLevelName): void {
  diag.setLogger(stderrLogger, { logLevel: LEVELS[level], suppressOverrideMessage: true });
  // The batch processor hands each failed export to this handler (once a batch, not once a span);
  // the default one prints the error as JSON, stack trace included.
  setGlobalErrorHandler((error) => diag.error(`span export failed: ${describeError(error)}`));
}
