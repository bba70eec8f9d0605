/**
 * The HTTP method of a request on a Connect path, judged in front of connect-node's handlers.
 */
import type { DescMethod } from '@bufbuild/protobuf';
import { connectErrorBody, type HandlerStep } from './handler-steps.js';

/** A 405 with an Allow header and a Connect error body saying why. */
function methodNotAllowed(allow: string, message: string) {
  const header = new Headers({ allow });
  return { status: 405, header, body: connectErrorBody(header, 'unimplemented', message) };
}

const STREAM_KINDS: Record<DescMethod['methodKind'], string> = {
  unary: 'unary',
  server_streaming: 'a server stream',
  client_streaming: 'a client stream',
  bidi_streaming: 'a bidirectional stream',
};

/**
 * connect-node lets a GET through to every NO_SIDE_EFFECTS method, server streams included, whose
 * handler then refused it 415 over an `encoding` it had read correctly. Connect GET serves unary
 * methods only, so such a GET is refused here, saying so. Any other method connect-node does not
 * serve a path with (GET of a method with side effects, PUT, ...) it refuses with a bare 405: the
 * answer gets the Allow header RFC 9110 requires and a Connect error body, as the REST paths'
 * 405s have. Such a request is in no protocol: it has no span or count.
 */
export const refuseWrongMethod: HandlerStep = async (req, handler) => {
  const { method, requestPath } = handler;
  if (req.method === 'GET' && method.methodKind !== 'unary') {
    return methodNotAllowed(
      'POST',
      `GET is not allowed on ${requestPath}: a Connect GET serves unary methods only, and ${method.name} is ${STREAM_KINDS[method.methodKind]}; ` +
        'POST it (application/connect+json or application/connect+proto)',
    );
  }
  const res = await handler(req);
  if (res.status !== 405 || res.body) return res;
  // Past the stream check, connect-node's own list: GET for side-effect-free methods.
  if (handler.allowedMethods.includes('GET')) return methodNotAllowed('GET, POST', `${req.method} is not allowed on ${requestPath}; use GET or POST`);
  const why = req.method === 'GET' ? ` (a Connect GET serves side-effect-free methods only; ${method.name} is not marked NO_SIDE_EFFECTS)` : '';
  return methodNotAllowed('POST', `${req.method} is not allowed on ${requestPath}; use POST${why}`);
};
