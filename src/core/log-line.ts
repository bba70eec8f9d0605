/**
 * The one way the service writes to stderr: a line with the prefix every line there has, so an
 * operator can pick the service's lines out of a shared log. A value quoted in the text may hold a
 * newline, which would split the line; it becomes a space.
 */
const LOG_PREFIX = 'rs3gw-obs:';

export function logLine(text: string): void {
  process.stderr.write(`${LOG_PREFIX} ${text.replace(/\s*\n\s*/g, ' ')}\n`);
}
