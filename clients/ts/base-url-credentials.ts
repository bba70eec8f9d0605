/**
 * Credentials in a base URL (`http://user:secret@proxy:8080`) sent as HTTP Basic authorization over
 * gRPC. Over HTTP/1.1 (Connect, gRPC-Web) Node's http.request sends them by itself, and so does Go's
 * net/http on every protocol; connect-node's HTTP/2 transport drops them, so a proxy that asks for
 * them refused the TS client's gRPC calls only. As Node does, a call that sets its own
 * `authorization` header keeps it.
 */
import type { Interceptor } from '@connectrpc/connect';

/** The interceptor that sends the URL's credentials, or undefined when it has none. */
export function baseUrlCredentials(baseUrl: string): Interceptor | undefined {
  const url = new URL(baseUrl);
  if (url.username === '' && url.password === '') return undefined;
  // Decoded, as Node's http.request and Go's Request.SetBasicAuth take them.
  const token = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
  return (next) => (req) => {
    if (!req.header.has('authorization')) req.header.set('authorization', `Basic ${token}`);
    return next(req);
  };
}
