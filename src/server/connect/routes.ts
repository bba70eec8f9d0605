/**
 * Serves the bindings over the Connect protocol and gRPC-Web (HTTP/1.1 side of the port), through
 * the same call pipeline as native gRPC and REST.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toBinary, type DescMessage, type DescMethod, type Message } from '@bufbuild/protobuf';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { binaryRequest } from '../pipeline/binary-request.js';
import type { CallContext, Protocol } from '../pipeline/context.js';
import { toConnectError } from '../pipeline/errors.js';
import type { ServiceBinding } from '../pipeline/handlers.js';
import type { CallPipeline, RequestSource } from '../pipeline/invoke.js';
import { jsonText, messageFromJsonText } from '../pipeline/json-request.js';
import { directStreamSink } from './direct-stream.js';
import { answersInJson, bodyRestoringEncoder, carriesHttpBody, detachBodies, type DetachedBodies } from './json-bodies.js';
import type { RequestSlot } from './request-messages.js';
import type { AnswerBudget } from '../unsent-budget.js';

/**
 * One slot per request, where what connect-node must not judge waits for the call: the refusal of
 * its JSON (strictJsonText), its binary message, or why its message could not be read
 * (request-messages.ts); and the large bodies of its JSON answer (json-bodies.ts).
 */
interface CallSlot extends RequestSlot {
  bodies?: DetachedBodies;
  /** The response, which a server stream writes its messages to once its headers are out (direct-stream.ts). */
  res?: ServerResponse;
}
const slots = new AsyncLocalStorage<CallSlot>();

/** The slot of the request being handled, if any. */
export const requestSlot = (): CallSlot | undefined => slots.getStore();

/**
 * Runs connect-node's handler with a slot for the request, so that a request refused while
 * decoding still reaches the call pipeline and is traced and counted like any refused call.
 */
export function withRequestSlot(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => slots.run({ res }, () => handler(req, res));
}

/** The request the pipeline gets: the refusal of its JSON, its binary message to decode, its JSON message decoded, or the message connect decoded. */
function requestOf(method: DescMethod, message: Message): RequestSource {
  const slot = slots.getStore();
  if (slot?.error !== undefined) {
    const refused = slot.error;
    return () => Promise.reject(refused);
  }
  if (slot?.binary) {
    // The slot, and the pipeline's source, last as long as the call: a stream would keep the
    // request's bytes (up to RS3GW_MAX_MESSAGE_BYTES) to its end. They are let go once decoded.
    let bytes: Uint8Array | undefined = slot.binary;
    slot.binary = undefined;
    return () => {
      const decode = binaryRequest(method.input, bytes ?? new Uint8Array(0));
      bytes = undefined;
      return decode();
    };
  }
  return slot?.decoded ?? message;
}

/** Protobuf sizes of answers, kept per message: one fanned out to many streams is measured once. */
const protobufSizes = new WeakMap<Message, number>();

/**
 * An answer's protobuf size, by which a Connect or gRPC-Web answer is judged against the unsent
 * budget: connect-node encodes it (perhaps as JSON, perhaps compressed) only once the call has
 * returned, too late for a refusal to be the call's.
 */
function protobufSize(schema: DescMessage, message: Message): number {
  let size = protobufSizes.get(message);
  if (size === undefined) {
    size = toBinary(schema, message).byteLength;
    protobufSizes.set(message, size);
  }
  return size;
}

function callContext(method: DescMethod, ctx: HandlerContext, unsent: AnswerBudget): CallContext {
  const protocol: Protocol = ctx.protocolName === 'grpc-web' ? 'grpc-web' : ctx.protocolName === 'grpc' ? 'grpc' : 'connect';
  return {
    protocol,
    method,
    requestHeaders: ctx.requestHeader,
    signal: ctx.signal,
    render: (message) => unsent.answer(method.name, protobufSize(method.output, message)),
  };
}

/**
 * connect-node decodes JSON requests itself and reports a bad one without saying where
 * (`cannot decode enum rs3gw.observability.v1.Priority from JSON: "critical"`), before any handler
 * runs. Its one hook before that decoding is the text decoder of a method's JSON options: this one
 * decodes the text as the REST side does (bytes that are not UTF-8 are refused, not read as U+FFFD
 * and stored so), and puts the message, or its refusal (naming the field
 * path and the expected form), in the request's slot; connect-node then decodes an empty message,
 * so that a large body is parsed once, and the handler runs and hands either to the pipeline.
 */
function strictJsonText(schema: DescMessage): { decode(input?: Uint8Array): string } {
  return {
    decode(input?: Uint8Array): string {
      const slot = slots.getStore();
      // Without a slot (none is expected) connect-node decodes the text itself, once checked.
      if (!slot) {
        try {
          const text = jsonText(input ?? new Uint8Array(0));
          messageFromJsonText(schema, text);
          return text;
        } catch (error) {
          throw toConnectError(error);
        }
      }
      try {
        slot.decoded = messageFromJsonText(schema, jsonText(input ?? new Uint8Array(0), slot.jsonSource), slot.jsonSource);
      } catch (error) {
        slot.error = error;
      }
      return '{}';
    },
  };
}

export function connectRoutes(bindings: readonly ServiceBinding[], pipeline: CallPipeline, unsent: AnswerBudget): (router: ConnectRouter) => void {
  return (router) => {
    for (const binding of bindings) {
      for (const method of binding.service.methods) {
        const carriesBody = carriesHttpBody(method.output);
        const impl =
          method.methodKind === 'server_streaming'
            ? (request: Message, ctx: HandlerContext) =>
                pipeline.serverStream(binding, method, requestOf(method, request), {
                  ...callContext(method, ctx, unsent),
                  sink: directStreamSink(slots.getStore()?.res, method.output, ctx),
                })
            : async (request: Message, ctx: HandlerContext) => {
                const response = await pipeline.unary(binding, method, requestOf(method, request), callContext(method, ctx, unsent));
                const slot = slots.getStore();
                if (!carriesBody || !slot || !answersInJson(ctx)) return response;
                return detachBodies(method.output, response, (slot.bodies ??= new Map()));
              };
        // Connect ignores unknown JSON fields and enum names by default; a typo would then be lost
        // without a word, so they are errors here as on the REST paths.
        // textDecoder and textEncoder are not in the handler options' type, but connect-node hands the
        // JSON options to its JSON serialization, which takes them (test/e2e/connect-wire.test.ts
        // sees the messages and the bodies).
        const jsonOptions = {
          ignoreUnknownFields: false,
          textDecoder: strictJsonText(method.input),
          textEncoder: bodyRestoringEncoder(() => slots.getStore()?.bodies),
        };
        router.rpc(method as never, impl as never, { jsonOptions });
      }
    }
  };
}
