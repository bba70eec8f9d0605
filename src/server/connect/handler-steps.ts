/**
 * Steps that run in front of connect-node's handlers, on its universal requests: they may change
 * the request (and the response) before and after the handler, which connect-node's interceptors,
 * running after it has decoded the request, cannot.
 */
import type { ConnectRouter } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from '@connectrpc/connect/protocol';

export type HandlerStep = (req: UniversalServerRequest, handler: UniversalHandler) => Promise<UniversalServerResponse>;

/** Registers the routes, then puts the steps, outermost first, in front of every handler they made. */
export function withHandlerSteps(routes: (router: ConnectRouter) => void, steps: readonly HandlerStep[]): (router: ConnectRouter) => void {
  return (router) => {
    routes(router);
    // connect-node reads router.handlers once the routes have run, to map request paths to them.
    router.handlers.forEach((handler, i) => {
      router.handlers[i] = steps.reduceRight(inFront, handler);
    });
  };
}

/** A request or response body of the one chunk `bytes`. */
export async function* bodyOf(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** A Connect error's JSON body (`{code, message}`), with its content type and length set on `header`. */
export function connectErrorBody(header: Headers, code: string, message: string): AsyncGenerator<Uint8Array> {
  const body = new TextEncoder().encode(JSON.stringify({ code, message }));
  header.set('content-type', 'application/json');
  header.set('content-length', String(body.byteLength));
  return bodyOf(body);
}

/** `handler` behind `step`, keeping the properties connect-node routes by. */
function inFront(handler: UniversalHandler, step: HandlerStep): UniversalHandler {
  const { protocolNames, service, method, requestPath, allowedMethods, supportedContentType } = handler;
  const stepped = (req: UniversalServerRequest) => step(req, handler);
  return Object.assign(stepped, { protocolNames, service, method, requestPath, allowedMethods, supportedContentType });
}
