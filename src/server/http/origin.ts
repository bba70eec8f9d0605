/**
 * Which web pages may change the service's state. A browser lets any page it shows send a POST
 * with a text/plain or form body, or none, to any address without asking it first (no CORS
 * preflight): the page cannot read the answer, but the call is made. The REST paths read such
 * bodies as JSON, so that `curl -d` and a plain fetch work; without this check any page a user of
 * the service opened could reset its metrics. Browsers name the page's origin in `Origin` (on
 * every POST), so a state-changing request that carries one is served only when it is the
 * service's own or one RS3GW_ALLOWED_ORIGINS lists. Clients that are not browsers send no Origin
 * and are unaffected. The service has no authentication: this stops pages, not people.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { quote } from '../pipeline/well-known.js';
import { writeError } from '../rest/response.js';

/** An origin as browsers serialise it (lower-case host, no default port), or undefined for anything else (`null` too). */
function originOf(text: string): string | undefined {
  if (!/^https?:\/\/[^/?#@\s]+$/i.test(text)) return undefined;
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

/** GET and HEAD change nothing here; every other method may. */
const changesState = (method: string | undefined) => method !== 'GET' && method !== 'HEAD';

export class OriginPolicy {
  private readonly any: boolean;
  private readonly listed: ReadonlySet<string>;

  /** `allowed`: RS3GW_ALLOWED_ORIGINS as config reads it (serialised origins, `*` for any). */
  constructor(allowed: readonly string[]) {
    this.any = allowed.includes('*');
    this.listed = new Set(allowed);
  }

  /**
   * Answers 403 to a state-changing request from a foreign page, and returns true when it did.
   * A request from a listed origin gets Access-Control-Allow-Origin, so that the page can read
   * the answer (its text/plain POST needs no preflight, but the answer is hidden without it).
   */
  refuses(req: IncomingMessage, res: ServerResponse): boolean {
    const sent = req.headers.origin;
    if (sent === undefined) {
      // Browsers send Origin on every POST; one that did not still says where the request came
      // from here. same-site is a foreign origin too (another port of the same host is same-site).
      const site = req.headers['sec-fetch-site'];
      if (!changesState(req.method) || (site !== 'cross-site' && site !== 'same-site')) return false;
      writeError(res, 403, 'permission_denied', `sec-fetch-site: a ${site} page may not change this service's state, and the request carries no Origin to check against RS3GW_ALLOWED_ORIGINS`);
      return true;
    }
    const origin = originOf(sent);
    // The port speaks plain HTTP: its own origin is http:// and what Host names (a TLS proxy's
    // https:// origin is listed in RS3GW_ALLOWED_ORIGINS).
    const own = req.headers.host !== undefined ? originOf(`http://${req.headers.host}`) : undefined;
    if (origin !== undefined && origin === own) return false;
    if (this.any || (origin !== undefined && this.listed.has(origin))) {
      res.setHeader('access-control-allow-origin', sent);
      res.setHeader('vary', 'origin');
      return false;
    }
    if (!changesState(req.method)) return false;
    // The list itself is not shown: it would tell any caller which pages to attack.
    writeError(
      res,
      403,
      'permission_denied',
      `origin: a page of ${quote(sent, "'")} may not change this service's state; only the service's own origin${own ? ` (${own})` : ''} and those listed in RS3GW_ALLOWED_ORIGINS may`,
    );
    return true;
  }
}
