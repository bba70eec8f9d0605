import { fromBinary, type DescMessage, type Message } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';

/**
 * A binary request, decoded when the call pipeline asks for it: bytes that do not parse are then
 * the client's error (INVALID_ARGUMENT), traced and counted like any refused call, where grpc-js
 * and connect-node would answer INTERNAL before any handler ran. Unknown fields are skipped, not
 * kept: nothing reads them, and kept they would hold the request's bytes (up to
 * RS3GW_MAX_MESSAGE_BYTES) for as long as a stream holds its request.
 */
export function binaryRequest(schema: DescMessage, bytes: Uint8Array): () => Promise<Message> {
  return async () => {
    try {
      return fromBinary(schema, bytes, { readUnknownFields: false });
    } catch (error) {
      throw new ConnectError(`request: not a valid ${schema.typeName} (${(error as Error).message})`, Code.InvalidArgument);
    }
  };
}
