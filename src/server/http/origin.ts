/**
 * Which web pages may change the service's state. A browser lets any page it shows send a POST
 * with a text/plain or form body, or none, to any address without asking it first (no CORS
 * preflight): the page cannot read the answer, but the call is made. The REST paths read such
 * bodies as JSON, so that `curl -d` and a plain fetch work; without this check any page a user of
 * the service opened could reset its metrics. Browsers name the page's origin in `Origin` (on
 * every POST), so a state-changing request that carries one is served only when it is the
 * service's own or one RS3GW_ALLOWED_ORIGINS lists; and a browser that says another site's page
 * made a request (Fetch Metadata) has it refused whatever its method, a followed link excepted.
 * Clients that are not browsers send neither header and are unaffected. The service has no
 * authentication: this stops pages, not people.
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

/**
 * A link the user followed: a top-level navigation the user started (Sec-Fetch-User), not one a
 * page made itself (`location = ...`, a meta refresh). A typed URL or a bookmark is `none`.
 */
function isFollowedLink(req: IncomingMessage): boolean {
  return (
    !changesState(req.method) &&
    req.headers['sec-fetch-mode'] === 'navigate' &&
    req.headers['sec-fetch-dest'] === 'document' &&
    req.headers['sec-fetch-user'] === '?1'
  );
}

export class OriginPolicy {
  private readonly any: boolean;
  private readonly listed: ReadonlySet<string>;

  /** `allowed`: RS3GW_ALLOWED_ORIGINS as config reads it (serialised origins, `*` for any). */
  constructor(allowed: readonly string[]) {
    this.any = allowed.includes('*');
    this.listed = new Set(allowed);
  }

  /**
   * Answers 403 to a request a foreign page made, and returns true when it did. A request from a
   * listed origin gets Access-Control-Allow-Origin, so that the page can read the answer (its
   * text/plain POST needs no preflight, but the answer is hidden without it).
   */
  refuses(req: IncomingMessage, res: ServerResponse): boolean {
    // Whether an answer carries Access-Control-Allow-Origin depends on Origin once any is listed:
    // every answer says so, or a cache could give a listed page the copy made for another.
    if (this.listed.size > 0) res.appendHeader('vary', 'origin');
    const sent = req.headers.origin;
    const origin = sent === undefined ? undefined : originOf(sent);
    // The port speaks plain HTTP: its own origin is http:// and what Host names (a TLS proxy's
    // https:// origin is listed in RS3GW_ALLOWED_ORIGINS).
    const own = req.headers.host !== undefined ? originOf(`http://${req.headers.host}`) : undefined;
    if (origin !== undefined && origin === own) return false;
    if (sent !== undefined && (this.any || (origin !== undefined && this.listed.has(origin)))) {
      res.setHeader('access-control-allow-origin', sent);
      // A refused capture's Retry-After is the one header beyond the safelisted ones it needs.
      res.setHeader('access-control-expose-headers', 'retry-after');
      return false;
    }
    // Fetch Metadata (the resource isolation policy of web.dev/fetch-metadata): a browser says
    // whether another site's page made the request. Such a page may not make the service do work
    // either (an <img> of /debug/pprof/profile?seconds=300 would hold the profiler for five
    // minutes, and its queue behind it): only a link the user follows is served. same-site is
    // foreign too: another port of the same host is same-site.
    const site = req.headers['sec-fetch-site'];
    if ((site === 'cross-site' || site === 'same-site') && !isFollowedLink(req)) {
      writeError(
        res,
        403,
        'permission_denied',
        `sec-fetch-site: a ${site} page may not make this service do work${sent === undefined ? '' : ` (origin ${quote(sent, "'")})`}, other than by a link the user follows; list the page's origin in RS3GW_ALLOWED_ORIGINS`,
      );
      return true;
    }
    // Browsers without Fetch Metadata still name the page in Origin on every POST.
    if (sent === undefined || !changesState(req.method)) return false;
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
