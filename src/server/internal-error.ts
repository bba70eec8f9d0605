/**
 * An unexpected error on stderr: one line with the service's prefix, as every line it writes there,
 * then the stack's frames on the lines after it (only here: they are what finds the bug).
 */
import { inspect } from 'node:util';

export function logInternalError(what: string, error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : inspect(error, { breakLength: Infinity });
  const frames = error instanceof Error ? (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)) : [];
  console.error([`rs3gw-obs: internal error: ${what}: ${message.replace(/\s*\n\s*/g, ' ')}`, ...frames].join('\n'));
}
