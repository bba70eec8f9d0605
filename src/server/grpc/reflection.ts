/**
 * gRPC server reflection, v1 and v1alpha (same messages, two packages), so that
 * `grpcurl list` and `describe` work without proto files.
 */
import { create, fromBinary, toBinary, type DescService, type MessageShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import * as v1 from '../../../gen/ts/grpc/reflection/v1/reflection_pb.js';
import * as v1alpha from '../../../gen/ts/grpc/reflection/v1alpha/reflection_pb.js';
import type { DescriptorIndex } from './descriptor-index.js';

type Request = MessageShape<typeof v1.ServerReflectionRequestSchema>;
type Response = MessageShape<typeof v1.ServerReflectionResponseSchema>;
type ResponseInit = Omit<MessageShape<typeof v1.ServerReflectionResponseSchema>, '$typeName' | 'originalRequest'>;

const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;

function answer(index: DescriptorIndex, request: Request): ResponseInit {
  const base = { validHost: request.host };
  const files = (file: ReturnType<DescriptorIndex['fileByName']>, what: string): ResponseInit =>
    file
      ? { ...base, messageResponse: { case: 'fileDescriptorResponse', value: create(v1.FileDescriptorResponseSchema, { fileDescriptorProto: index.withDependencies(file) }) } }
      : { ...base, messageResponse: { case: 'errorResponse', value: create(v1.ErrorResponseSchema, { errorCode: NOT_FOUND, errorMessage: `${what} not found` }) } };
  const r = request.messageRequest;
  switch (r.case) {
    case 'listServices':
      return {
        ...base,
        messageResponse: {
          case: 'listServicesResponse',
          value: create(v1.ListServiceResponseSchema, { service: index.serviceNames.map((name) => ({ name })) }),
        },
      };
    case 'fileByFilename':
      return files(index.fileByName(r.value), `file ${r.value}`);
    case 'fileContainingSymbol':
      return files(index.fileContainingSymbol(r.value), `symbol ${r.value}`);
    case 'fileContainingExtension':
      return files(
        index.fileContainingExtension(r.value.containingType, r.value.extensionNumber),
        `extension ${r.value.extensionNumber} of ${r.value.containingType}`,
      );
    case 'allExtensionNumbersOfType': {
      const numbers = index.extensionNumbersOf(r.value);
      if (!numbers) {
        return { ...base, messageResponse: { case: 'errorResponse', value: create(v1.ErrorResponseSchema, { errorCode: NOT_FOUND, errorMessage: `type ${r.value} not found` }) } };
      }
      return {
        ...base,
        messageResponse: { case: 'allExtensionNumbersResponse', value: create(v1.ExtensionNumberResponseSchema, { baseTypeName: r.value, extensionNumber: numbers }) },
      };
    }
    default:
      return { ...base, messageResponse: { case: 'errorResponse', value: create(v1.ErrorResponseSchema, { errorCode: UNIMPLEMENTED, errorMessage: 'unsupported request' }) } };
  }
}

/** v1 and v1alpha messages share their fields and numbers, so v1's schemas encode both. */
function reflectionService(
  service: DescService,
  index: DescriptorIndex,
): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const method = service.methods[0]!;
  return {
    definition: {
      [method.name]: {
        path: `/${service.typeName}/${method.name}`,
        requestStream: true,
        responseStream: true,
        requestSerialize: (m: Request) => Buffer.from(toBinary(v1.ServerReflectionRequestSchema, m)),
        requestDeserialize: (bytes: Buffer) => fromBinary(v1.ServerReflectionRequestSchema, bytes),
        responseSerialize: (m: Response) => Buffer.from(toBinary(v1.ServerReflectionResponseSchema, m)),
        responseDeserialize: (bytes: Buffer) => fromBinary(v1.ServerReflectionResponseSchema, bytes),
      },
    },
    implementation: {
      [method.name]: (call: grpc.ServerDuplexStream<Request, Response>) => {
        call.on('data', (request: Request) => {
          // Outside the call pipeline, so nothing else bounds it: answers a client does not take
          // stop its requests being read (grpc-js reads one when asked), or they would queue
          // without end.
          if (!call.write(create(v1.ServerReflectionResponseSchema, { ...answer(index, request), originalRequest: request }))) {
            call.pause();
            call.once('drain', () => call.resume());
          }
        });
        call.on('end', () => call.end());
      },
    },
  };
}

export function addReflection(server: grpc.Server, index: DescriptorIndex): void {
  for (const service of [v1.ServerReflection, v1alpha.ServerReflection]) {
    const { definition, implementation } = reflectionService(service, index);
    server.addService(definition, implementation);
  }
}
