/**
 * The HTTP method of a request on a Connect path, judged in front of connect-node's handlers.
 */
import type { DescMethod } from '@bufbuild/protobuf';
import { MethodOptions_IdempotencyLevel } from '@bufbuild/protobuf/wkt';
import { bodyOf, type HandlerStep } from './handler-steps.js';

/** A 405 with an Allow header and a Connect error body saying why. */
function methodNotAllowed(allow: string, message: string) {
  const body = new TextEncoder().encode(JSON.stringify({ code: 'unimplemented', message }));
  const header = new Headers({ allow, 'content-type': 'application/json', 'content-length': String(body.byteLength) });
  return { status: 405, header, body: bodyOf(body) };
}

const STREAM_KINDS: Record<DescMethod['methodKind'], string> = {
  unary: 'unary',
  server_streaming: 'a server stream',
  client_streaming: 'a client stream',
  bidi_streaming: 'a bidirectional stream',
};

const pathOf = (method: DescMethod): string => `/${method.parent.typeName}/${method.name}`;

/** What connect-node serves a method with: GET only for side-effect-free unary methods. */
const takesGet = (method: DescMethod): boolean => method.methodKind === 'unary' && method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;

/**
 * connect-node lets a GET through to every NO_SIDE_EFFECTS method, server streams included, whose
 * handler then refused it 415 over an `encoding` it had read correctly. Connect GET serves unary
 * methods only, so such a GET is refused here, saying so. Any other method connect-node does not
 * serve a path with (GET of a method with side effects, PUT, ...) it refuses with a bare 405: the
 * answer gets the Allow header RFC 9110 requires and a Connect error body, as the REST paths'
 * 405s have. Such a request is in no protocol: it has no span or count.
 */
export const refuseWrongMethod: HandlerStep = async (req, handler) => {
  const method = handler.method;
  if (req.method === 'GET' && method.methodKind !== 'unary') {
    return methodNotAllowed(
      'POST',
      `GET is not allowed on ${pathOf(method)}: a Connect GET serves unary methods only, and ${method.name} is ${STREAM_KINDS[method.methodKind]}; ` +
        'POST it (application/connect+json or application/connect+proto)',
    );
  }
  const res = await handler(req);
  if (res.status !== 405 || res.body) return res;
  if (takesGet(method)) return methodNotAllowed('GET, POST', `${req.method} is not allowed on ${pathOf(method)}; use GET or POST`);
  const why = req.method === 'GET' ? ` (a Connect GET serves side-effect-free methods only; ${method.name} is not marked NO_SIDE_EFFECTS)` : '';
  return methodNotAllowed('POST', `${req.method} is not allowed on ${pathOf(method)}; use POST${why}`);
};
