/**
 * An unexpected error on stderr: one line with the service's prefix, as every line it writes there,
 * then the stack's frames on the lines after it (only here: they are what finds the bug).
 */
import { inspect } from 'node:util';
import { logLine } from '../core/log-line.js';

export function logInternalError(what: string, error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : inspect(error, { breakLength: Infinity });
  const frames = error instanceof Error ? (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)) : [];
  logLine(`internal error: ${what}: ${message}`);
  if (frames.length > 0) process.stderr.write(`${frames.join('\n')}\n`);
}
