/** A minimal @grpc/grpc-js client for one unary method of the generated descriptors, for benchmarks. */
import { fromBinary, toBinary, type DescMessage, type DescMethod, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { ProcReader } from '../../src/core/procfs/reader.js';

export interface UnaryCaller<I extends DescMessage, O extends DescMessage> {
  call(request: MessageInitShape<I>): Promise<MessageShape<O>>;
  close(): void;
}

export function unaryCaller<I extends DescMessage, O extends DescMessage>(
  address: string,
  method: DescMethod & { input: I; output: O },
  options: grpc.ClientOptions = {},
): UnaryCaller<I, O> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), options);
  const path = `/${method.parent.typeName}/${method.name}`;
  const serialize = (m: MessageShape<I>) => Buffer.from(toBinary(method.input, m));
  const deserialize = (b: Buffer) => fromBinary(method.output, b);
  return {
    call: (request) =>
      new Promise((resolve, reject) =>
        client.makeUnaryRequest(path, serialize, deserialize, create(method.input, request), (error, response) =>
          error ? reject(error) : resolve(response!),
        ),
      ),
    close: () => client.close(),
  };
}

const proc = new ProcReader();

/** CPU time (user + system) a process has used, seconds, from /proc with the system's clock ticks. */
export function processCpuSeconds(pid: number): number {
  const stat = proc.processStat(pid);
  return (stat.utimeTicks + stat.stimeTicks) / proc.systemConstants().clockTicksPerSecond;
}
