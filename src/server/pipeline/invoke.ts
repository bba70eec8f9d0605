/**
 * The one path every call takes, whatever its protocol: a server span (parented on an incoming
 * `traceparent`), the request checked against the ranges of its well-known types (validate.ts),
 * the call's duration and code for /metrics, and engine errors mapped to codes.
 */
import { create, type DescMethod, type Message } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import type { CallContext, Protocol } from './context.js';
import { eitherSignal } from './either-signal.js';
import { abortError, codeName, isClientFault, toConnectError } from './errors.js';
import type { ServerStreamHandler, ServiceBinding, UnaryHandler } from './handlers.js';
import { validateRequest } from './validate.js';

export interface FinishedCall {
  service: string;
  method: string;
  protocol: Protocol;
  /** Connect code name, "ok" on success. */
  code: string;
  seconds: number;
}

/** Receives every finished call (the RPC metrics). */
export type CallObserver = (call: FinishedCall) => void;

const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};

/**
 * The codes that are the server's failure, for which the RPC semantic conventions give a server
 * span an error status; every other code is the client's doing, and its span's status stays unset.
 * So does a refusal whose cause is a ClientFault (a REST 415, a stream body that is not one
 * message), though its code is UNIMPLEMENTED.
 */
const SERVER_ERRORS: ReadonlySet<Code> = new Set([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

/** rpc.connect_rpc.error_code: the Connect code name, which the conventions spell "cancelled" where Connect says "canceled". */
function connectErrorCode(code: Code): string {
  return code === Code.Canceled ? 'cancelled' : codeName(code);
}

const RPC_SYSTEM: Record<Protocol, string> = {
  grpc: 'grpc',
  'grpc-web': 'grpc_web',
  connect: 'connect_rpc',
  rest: 'http_json',
};

/** A request, or a function that decodes it (and may refuse it). */
export type RequestSource = Message | (() => Promise<Message>);

async function decodeRequest(method: DescMethod, request: RequestSource): Promise<Message> {
  const message = typeof request === 'function' ? await request() : request;
  validateRequest(method.input, message);
  return message;
}

export class CallPipeline {
  constructor(
    private readonly tracer: Tracer,
    private readonly observe: CallObserver,
    /** Aborted when the server shuts down: open streams then end cleanly. */
    private readonly shutdownSignal: AbortSignal,
  ) {}

  /**
   * `request` may be a function that decodes it (REST, native gRPC): a request refused while
   * decoding is then traced and counted like any other failed call.
   */
  async unary(binding: ServiceBinding, method: DescMethod, request: RequestSource, ctx: CallContext): Promise<Message> {
    const handler = binding.handler(method) as UnaryHandler;
    const decode = () => decodeRequest(method, request);
    if (!binding.observed) {
      try {
        const message = create(method.output, await handler(await decode(), ctx));
        await ctx.render?.(message);
        return message;
      } catch (error) {
        throw toConnectError(error, ctx.signal);
      }
    }
    const call = this.begin(binding, method, ctx);
    try {
      const response = await context.with(call.context, async () => handler(await decode(), ctx));
      const message = create(method.output, response);
      await context.with(call.context, async () => ctx.render?.(message));
      call.end(undefined);
      return message;
    } catch (error) {
      const connectError = this.failure(error, ctx.signal);
      call.end(connectError);
      throw connectError;
    }
  }

  /**
   * Handlers end their stream when ctx.signal aborts, which is either the server shutting down
   * (the stream then ends cleanly) or the call's own end: a deadline or a cancel, reported as such.
   */
  async *serverStream(binding: ServiceBinding, method: DescMethod, request: RequestSource, ctx: CallContext): AsyncGenerator<Message> {
    const handler = binding.handler(method) as ServerStreamHandler;
    const ending = eitherSignal(ctx.signal, this.shutdownSignal);
    const streamCtx: CallContext = { ...ctx, signal: ending.signal };
    const call = binding.observed ? this.begin(binding, method, ctx) : undefined;
    let failure: ConnectError | undefined;
    try {
      const sink = ctx.sink;
      for await (const item of handler(await decodeRequest(method, request), streamCtx)) {
        const message = create(method.output, item);
        // Awaited only when it is async: a message fanned out to many streams costs no extra turn each.
        const rendering = ctx.render?.(message);
        if (rendering) await rendering;
        // Written straight to the response when it can be: the message then costs a write, not a
        // pass through the transport's chain of async stages for every stream that carries it.
        if (!sink?.write(message)) {
          yield message;
          continue;
        }
        const backlog = sink.backlog(ending.signal);
        if (backlog) await backlog;
      }
      if (ctx.signal.aborted) throw abortError(ctx.signal);
    } catch (error) {
      failure = this.failure(error, ctx.signal);
      throw failure;
    } finally {
      ending.dispose();
      call?.end(failure);
    }
  }

  /**
   * The error a call failed with. A call canceled while the server shuts down was, but for a rare
   * client that gave up during the grace, cut off by the port when the grace ended: its span and
   * metrics say so, as an error of the server's.
   */
  private failure(error: unknown, signal: AbortSignal): ConnectError {
    const connectError = toConnectError(error, signal);
    if (connectError.code !== Code.Canceled || !this.shutdownSignal.aborted) return connectError;
    return new ConnectError('the server shut down before the call finished', Code.Unavailable);
  }

  private begin(binding: ServiceBinding, method: DescMethod, ctx: CallContext) {
    const service = binding.service.typeName;
    const parent = propagation.extract(ROOT_CONTEXT, ctx.requestHeaders, headerGetter);
    const span: Span = this.tracer.startSpan(
      `${service}/${method.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'rpc.system': RPC_SYSTEM[ctx.protocol],
          'rpc.service': service,
          'rpc.method': method.name,
          'rs3gw.protocol': ctx.protocol,
          ...ctx.spanAttributes?.start,
        },
      },
      parent,
    );
    const started = performance.now();
    return {
      context: trace.setSpan(parent, span),
      end: (error: ConnectError | undefined) => {
        const code = error ? error.code : Code.Unknown;
        // Connect has an attribute of its own, set on errors only; REST keeps gRPC's, as its rpc.* attributes.
        if (ctx.protocol !== 'connect') span.setAttribute('rpc.grpc.status_code', error ? code : 0);
        else if (error) span.setAttribute('rpc.connect_rpc.error_code', connectErrorCode(code));
        if (ctx.spanAttributes) span.setAttributes(ctx.spanAttributes.end(error));
        if (error && SERVER_ERRORS.has(code) && !isClientFault(error)) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.rawMessage });
          if (code === Code.Internal) span.recordException(error);
        }
        span.end();
        this.observe({
          service,
          method: method.name,
          protocol: ctx.protocol,
          code: error ? codeName(code) : 'ok',
          seconds: (performance.now() - started) / 1000,
        });
      },
    };
  }
}
