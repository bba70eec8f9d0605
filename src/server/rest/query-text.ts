/**
 * A REST query string as its parameters, decoded strictly. URLSearchParams stores each escape that
 * is not UTF-8 (`%FF`) as U+FFFD and keeps a `%` without two hex digits as it is, so
 * `prefix=%FF` would filter on a character the client never sent; here, as for a path variable
 * (routes.ts) and a JSON body, such a parameter is refused, naming it.
 */
import { invalidArgument } from '../../core/errors.js';
import { clip, quote } from '../pipeline/well-known.js';

/** What a percent-encoded text must be, in the errors for a path variable and a query parameter. */
export const ESCAPES = '(each % followed by two hex digits, the bytes they spell UTF-8)';

/** One name or value of application/x-www-form-urlencoded text: `+` is a space, then escapes are bytes of UTF-8. */
function decoded(text: string): string | undefined {
  try {
    // decodeURIComponent, as for path variables: it throws on a bad escape and on bytes that are not UTF-8.
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The parameters of `search` (`?a=1&b=2`, or without the `?`) in order, as URLSearchParams splits them. */
export function queryParameters(search: string): Array<[string, string]> {
  const text = search.startsWith('?') ? search.slice(1) : search;
  const parameters: Array<[string, string]> = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const [rawName, rawValue] = equals < 0 ? [part, ''] : [part.slice(0, equals), part.slice(equals + 1)];
    const name = decoded(rawName);
    if (name === undefined) throw invalidArgument('query', `a parameter name must be percent-encoded UTF-8 ${ESCAPES}, got ${quote(rawName)}`);
    const value = decoded(rawValue);
    // A nameless one (`?=%FF`) is named as messageFromQuery names it.
    if (value === undefined) throw invalidArgument(name === '' ? 'query' : clip(name), `must be percent-encoded UTF-8 in the query ${ESCAPES}, got ${quote(rawValue)}`);
    parameters.push([name, value]);
  }
  return parameters;
}
