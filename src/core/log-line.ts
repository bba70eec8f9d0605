/**
 * The one way the service writes to stderr: a line with the prefix every line there has, so an
 * operator can pick the service's lines out of a shared log. A value quoted in the text (a setting,
 * a client's input) may hold a line break, which would split the line or, as a carriage return,
 * let the rest of it overwrite what came before on a terminal; line breaks (NEL and the Unicode
 * separators too) become a space. Other control characters, C0 and C1 (a terminal's escape
 * sequences), are written as \xHH.
 */
const LOG_PREFIX = 'rs3gw-obs:';

export function logLine(text: string): void {
  const flat = text
    .replace(/\s*[\r\n\u0085\u2028\u2029]\s*/g, ' ')
    .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  process.stderr.write(`${LOG_PREFIX} ${flat}\n`);
}
