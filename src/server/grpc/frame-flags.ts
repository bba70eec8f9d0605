/**
 * grpc-js reads a request frame's flags byte as "compressed" when it is exactly 1 and as plain
 * otherwise, and a frame marked compressed on a call that names no encoding (or `identity`) it
 * reads as plain too: RecordSample recorded a sample sent that way, where the gRPC spec calls it
 * a protocol error and the service's HTTP/1.1 transports refuse it. Both are refused here
 * INVALID_ARGUMENT in the words the HTTP/1.1 transports use. Patched once, on the prototype of
 * grpc-js's server call, whose decompression step is the first to see the frame with its flags.
 */
import * as grpc from '@grpc/grpc-js';
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';

type Decompress = (this: unknown, message: Buffer, encoding: string) => Buffer | Promise<Buffer>;

let patched = false;

export function refuseBadFrameFlags(): void {
  if (patched) return;
  const proto = BaseServerInterceptingCall.prototype as unknown as { decompressMessage?: Decompress };
  const decompress = proto.decompressMessage;
  if (typeof decompress !== 'function') {
    throw new Error("grpc-js's server call has no decompressMessage: src/server/grpc/frame-flags.ts needs updating");
  }
  patched = true;
  proto.decompressMessage = function (this: unknown, message: Buffer, encoding: string): Buffer | Promise<Buffer> {
    const flags = message[0] ?? 0;
    if (flags > 1) {
      const hex = flags.toString(16).padStart(2, '0');
      return Promise.reject({ code: grpc.status.INVALID_ARGUMENT, details: `request: message frame flags 0x${hex}: a request frame may only be marked compressed (0x01)` });
    }
    // grpc-js passes 'identity' for a frame marked compressed only when the call names no other encoding.
    if (flags === 1 && encoding === 'identity') {
      return Promise.reject({ code: grpc.status.INVALID_ARGUMENT, details: 'request: the message frame is marked compressed (0x01), but the request names no encoding' });
    }
    return decompress.call(this, message, encoding);
  };
}
