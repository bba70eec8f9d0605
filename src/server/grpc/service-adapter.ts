/**
 * Serves a transport-independent ServiceBinding on @grpc/grpc-js: (de)serialisation with
 * protobuf-es, the call pipeline, cancellation, and write backpressure for server streams.
 */
import { fromBinary, toBinary, type DescMessage, type DescMethod, type Message } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import { binaryRequest } from '../pipeline/binary-request.js';
import type { CallContext } from '../pipeline/context.js';
import type { ServiceBinding } from '../pipeline/handlers.js';
import type { CallPipeline } from '../pipeline/invoke.js';
import { headersFromMetadata } from './metadata.js';
import { invalidTimeoutMessage } from '../pipeline/grpc-timeout.js';
import { INVALID_TIMEOUT_HEADER } from './stream-guard.js';
import type { AnswerBudget } from '../unsent-budget.js';

/**
 * Encodes each answer once: when it is judged against the unsent budget (CallContext.render), and
 * again, from here, when grpc-js writes it; a message written to many streams (an anomaly fanned
 * out to every subscriber) is encoded once for all.
 */
function cachedSerializer(schema: DescMessage) {
  const encoded = new WeakMap<Message, Buffer>();
  return (message: Message) => {
    let bytes = encoded.get(message);
    if (!bytes) {
      bytes = Buffer.from(toBinary(schema, message));
      encoded.set(message, bytes);
    }
    return bytes;
  };
}

function deserializer(schema: DescMessage) {
  return (bytes: Buffer) => fromBinary(schema, bytes);
}

/**
 * How long before the deadline computed here a cancel still counts as the deadline: grpc-js's timer
 * may fire a little early (libuv's cached loop time), and the client's own deadline timer, which
 * ends the call with a reset, runs ahead of ours by the time the headers took to be read, which a
 * busy event loop stretches. A tenth of the time given, within these bounds.
 */
const DEADLINE_MARGIN_MIN_MS = 10;
const DEADLINE_MARGIN_MAX_MS = 1000;

/** The call's status; a refusal that knows when a place frees says so in a retry-after trailer, as Connect does in a header. */
function statusOf(error: ConnectError): Partial<grpc.StatusObject> {
  const status = { code: error.code as number as grpc.status, details: error.rawMessage };
  const retryAfter = error.metadata.get('retry-after');
  if (retryAfter === null) return status;
  const metadata = new grpc.Metadata();
  metadata.set('retry-after', retryAfter);
  return { ...status, metadata };
}

/**
 * A request's bytes, in a box grpc-js keeps for the call's life: a stream outlives its request,
 * and grpc-js would otherwise hold the bytes (up to RS3GW_MAX_MESSAGE_BYTES) until it ends. The
 * box is emptied when the request is decoded.
 */
interface RequestBytes {
  bytes: Buffer | undefined;
}

type Call = grpc.ServerUnaryCall<RequestBytes, Message> | grpc.ServerWritableStream<RequestBytes, Message>;

/**
 * The call's request: its bytes decoded when the pipeline asks, or, when the stream guard found its
 * grpc-timeout invalid, that refusal, so that it is traced and counted like any refused call.
 */
function requestOf(method: DescMethod, call: Call): () => Promise<Message> {
  const box = call.request;
  const [invalidTimeout] = call.metadata.get(INVALID_TIMEOUT_HEADER);
  if (invalidTimeout !== undefined) {
    box.bytes = undefined;
    return () => Promise.reject(new ConnectError(invalidTimeoutMessage(String(invalidTimeout)), Code.InvalidArgument));
  }
  return () => {
    const bytes = box.bytes ?? Buffer.alloc(0);
    box.bytes = undefined;
    return binaryRequest(method.input, bytes)();
  };
}

function callContext(method: DescMethod, call: Call, render: (message: Message) => void): CallContext {
  const controller = new AbortController();
  // grpc-js keeps the deadline as a wall-clock time but fires it on a timer: the time left is read
  // now and measured on the monotonic clock, so a step of the wall clock cannot turn a deadline
  // into a cancel or a cancel into a deadline.
  const deadline = call.getDeadline();
  const timeLeftMs = deadline === Infinity ? Infinity : new Date(deadline).getTime() - Date.now();
  const expiresAt = performance.now() + timeLeftMs;
  const marginMs = Math.min(DEADLINE_MARGIN_MAX_MS, Math.max(DEADLINE_MARGIN_MIN_MS, timeLeftMs / 10));
  call.once('cancelled', () => {
    const expired = performance.now() >= expiresAt - marginMs;
    controller.abort(expired ? new ConnectError('the deadline expired', Code.DeadlineExceeded) : new ConnectError('the client canceled the call', Code.Canceled));
  });
  return { protocol: 'grpc', method, requestHeaders: headersFromMetadata(call.metadata), signal: controller.signal, render };
}

export function grpcServiceOf(binding: ServiceBinding, pipeline: CallPipeline, unsent: AnswerBudget): {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
} {
  const definition: Record<string, grpc.MethodDefinition<RequestBytes, Message>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of binding.service.methods) {
    if (method.methodKind !== 'unary' && method.methodKind !== 'server_streaming') {
      throw new Error(`${method.name}: only unary and server-streaming methods are supported`);
    }
    const streaming = method.methodKind === 'server_streaming';
    const serialize = cachedSerializer(method.output);
    const render = (message: Message) => unsent.answer(method.name, serialize(message).length);
    definition[method.name] = {
      path: `/${binding.service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: streaming,
      requestSerialize: (request: RequestBytes) => request.bytes ?? Buffer.alloc(0),
      requestDeserialize: (bytes: Buffer): RequestBytes => ({ bytes }),
      responseSerialize: serialize,
      responseDeserialize: deserializer(method.output),
      originalName: method.localName,
    };
    implementation[method.name] = streaming
      ? (call: grpc.ServerWritableStream<RequestBytes, Message>) => void serveStream(binding, method, pipeline, call, callContext(method, call, render))
      : (call: grpc.ServerUnaryCall<RequestBytes, Message>, callback: grpc.sendUnaryData<Message>) => {
          pipeline.unary(binding, method, requestOf(method, call), callContext(method, call, render)).then(
            (response) => callback(null, response),
            (error: ConnectError) => callback(statusOf(error)),
          );
        };
  }
  return { definition, implementation };
}

async function serveStream(
  binding: ServiceBinding,
  method: DescMethod,
  pipeline: CallPipeline,
  call: grpc.ServerWritableStream<RequestBytes, Message>,
  ctx: CallContext,
): Promise<void> {
  try {
    for await (const message of pipeline.serverStream(binding, method, requestOf(method, call), ctx)) {
      if (call.cancelled) break;
      // The signal option removes the listener again, whichever comes first: nothing piles up per wait.
      if (!call.write(message)) await once(call, 'drain', { signal: ctx.signal }).catch(() => undefined);
    }
    if (!call.cancelled) call.end();
  } catch (error) {
    // grpc-js sends a status emitted as 'error' as the stream's trailers.
    if (!call.cancelled) call.emit('error', statusOf(error as ConnectError));
  }
}
