/**
 * The typed TS client over native gRPC (HTTP/2 cleartext): the shared protocol suite, plus what
 * only gRPC has: server reflection in both versions, as reflection clients other than grpcurl
 * (v1alpha: older grpc-go/grpc-java tools) use it.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, type ClientOptions } from '../../clients/ts/client.js';
import * as reflectionV1 from '../../gen/ts/grpc/reflection/v1/reflection_pb.js';
import * as reflectionV1alpha from '../../gen/ts/grpc/reflection/v1alpha/reflection_pb.js';
import { startServer, type RunningServer } from '../support/server.js';
import { within } from './support/rpc-helpers.js';
import { protocolSuite } from './support/rpc-scenarios.js';

protocolSuite('gRPC', { protocol: 'grpc' });

const reflection = suite('gRPC server reflection');
let server: RunningServer;

reflection.before(async () => {
  server = await startServer();
});

reflection.after(async () => {
  await server?.stop();
});

async function* requests<T>(...items: T[]): AsyncIterable<T> {
  yield* items;
}

for (const [version, generated] of [
  ['v1', reflectionV1],
  ['v1alpha', reflectionV1alpha],
] as const) {
  reflection(`${version}: lists the services and serves the file that defines a symbol`, async () => {
    const client = createClient(generated.ServerReflection, createGrpcTransport({ baseUrl: server.url }));
    const replies: Array<reflectionV1.ServerReflectionResponse['messageResponse'] | reflectionV1alpha.ServerReflectionResponse['messageResponse']> = [];
    const stream = client.serverReflectionInfo(
      requests(
        { messageRequest: { case: 'listServices' as const, value: '' } },
        { messageRequest: { case: 'fileContainingSymbol' as const, value: 'rs3gw.observability.v1.AnomalyService' } },
        { messageRequest: { case: 'fileContainingSymbol' as const, value: 'rs3gw.observability.v1.NoSuchThing' } },
      ),
      { timeoutMs: 20_000 },
    );
    await within(
      (async () => {
        for await (const reply of stream) replies.push(reply.messageResponse);
      })(),
      `reflection ${version}`,
    );
    assert.is(replies.length, 3);

    const [list, file, missing] = replies;
    assert.is(list!.case, 'listServicesResponse');
    const names = list!.case === 'listServicesResponse' ? list!.value.service.map((s) => s.name).sort() : [];
    assert.ok(names.includes('rs3gw.observability.v1.AnomalyService'), names.join(', '));
    assert.ok(names.includes('grpc.health.v1.Health'), names.join(', '));
    assert.ok(names.includes(`grpc.reflection.${version}.ServerReflection`), names.join(', '));
    assert.is(names.length, 8, names.join(', '));

    assert.is(file!.case, 'fileDescriptorResponse');
    if (file!.case === 'fileDescriptorResponse') {
      const files = file!.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
      const anomaly = files.find((f) => f.name === 'rs3gw/observability/v1/anomaly.proto');
      assert.ok(anomaly, `anomaly.proto among ${files.map((f) => f.name).join(', ')}`);
      assert.ok(anomaly!.service.some((s) => s.name === 'AnomalyService'));
    }

    assert.is(missing!.case, 'errorResponse');
    if (missing!.case === 'errorResponse') assert.is(missing!.value.errorCode, 5, 'NOT_FOUND');
  });

  reflection(`${version}: extension numbers of a known message are a list, empty when it has none; NOT_FOUND only for an unknown type`, async () => {
    const client = createClient(generated.ServerReflection, createGrpcTransport({ baseUrl: server.url }));
    const asked = ['rs3gw.observability.v1.RecordSampleRequest', 'google.protobuf.MethodOptions', 'rs3gw.observability.v1.NoSuchType'];
    const replies: Array<reflectionV1.ServerReflectionResponse['messageResponse'] | reflectionV1alpha.ServerReflectionResponse['messageResponse']> = [];
    const stream = client.serverReflectionInfo(
      requests(...asked.map((value) => ({ messageRequest: { case: 'allExtensionNumbersOfType' as const, value } }))),
      { timeoutMs: 20_000 },
    );
    await within(
      (async () => {
        for await (const reply of stream) replies.push(reply.messageResponse);
      })(),
      `reflection ${version}`,
    );
    const [none, annotated, unknown] = replies;
    assert.is(none!.case, 'allExtensionNumbersResponse', JSON.stringify(none));
    if (none!.case === 'allExtensionNumbersResponse') {
      assert.is(none!.value.baseTypeName, asked[0]);
      assert.equal(none!.value.extensionNumber, []);
    }
    assert.is(annotated!.case, 'allExtensionNumbersResponse', JSON.stringify(annotated));
    if (annotated!.case === 'allExtensionNumbersResponse') assert.equal(annotated!.value.extensionNumber, [72295728], 'google.api.http');
    assert.is(unknown!.case, 'errorResponse');
    if (unknown!.case === 'errorResponse') assert.is(unknown!.value.errorCode, 5, 'NOT_FOUND');
  });
}

reflection.run();

const options = suite('TS client options');

options('an unknown protocol is refused by name, not turned into a transport that fails later', () => {
  assert.throws(
    () => createObservabilityClient('http://127.0.0.1:9', { protocol: 'bogus' as ClientOptions['protocol'] }),
    (error: Error) => error.message === 'unknown protocol "bogus" (want "grpc", "grpc-web" or "connect")',
  );
});

options('Connect-only options given for another protocol are refused at creation, not dropped', () => {
  for (const protocol of ['grpc', 'grpc-web', undefined] as const) {
    for (const extra of [{ json: true }, { useHttpGet: true }]) {
      const name = Object.keys(extra)[0];
      assert.throws(
        () => createObservabilityClient('http://127.0.0.1:9', { protocol, ...extra }),
        (error: Error) => error.message === `option ${name} is for the Connect protocol only, not "${protocol ?? 'grpc'}"`,
        `${name} with ${protocol}`,
      );
    }
  }
  createObservabilityClient('http://127.0.0.1:9', { protocol: 'connect', json: true, useHttpGet: true }).close();
});

options('a base URL the methods cannot be appended to is refused at creation, naming the problem', () => {
  // Before, each was accepted and its first call failed: unimplemented or not_found with a query
  // (the method's path went into it), to "/" with a fragment, internal or unknown with ftp, a bare
  // TypeError without a scheme. The Go client's New refuses the same ones.
  const want = 'want http://host[:port][/path] or https://host[:port][/path]';
  const refused: Array<[string, string]> = [
    ['127.0.0.1:9', 'has no scheme'],
    ['ftp://127.0.0.1:9', 'uses scheme "ftp", not http or https'],
    ['http://127.0.0.1:9/?x=1', "has a query (?...), to which the method's path would be appended"],
    ['http://127.0.0.1:9/#f', "has a fragment (#...), to which the method's path would be appended"],
    ['http://', 'is not a URL'],
    // Node's URL reads the first path segment as the host; Go's New refuses these.
    ['http:///path', 'has no host'],
    ['http:///127.0.0.1:9', 'has no host'],
    ['http://127.0.0.1:9/%zz', 'has a % that is no escape (two hex digits after it)'],
    ['http://127.0.0.1:0', 'has port "0", which is not from 1 to 65535'],
    ['http://127.0.0.1:99999', 'is not a URL'],
    // Node's URL forgives these, the appended method path does not: every call failed.
    ['http://127.0.0.1:9 ', 'has white space or a backslash'],
    [' http://127.0.0.1:9', 'has white space or a backslash'],
    ['http://127.0.0.1\\:9', 'has white space or a backslash'],
  ];
  for (const protocol of ['grpc', 'connect', 'grpc-web'] as const) {
    for (const [url, problem] of refused) {
      assert.throws(
        () => createObservabilityClient(url, { protocol }),
        (error: Error) => error.message === `base URL ${JSON.stringify(url)} ${problem}; ${want}`,
        `${protocol} ${url}`,
      );
    }
  }
  // A path prefix (behind a proxy) and https stay accepted.
  createObservabilityClient('http://127.0.0.1:9/observability', { protocol: 'connect' }).close();
  createObservabilityClient('https://127.0.0.1:9', { protocol: 'grpc-web' }).close();
});

options.run();

const timeouts = suite('TS client timeouts');
let timeoutServer: RunningServer;
timeouts.before(async () => {
  timeoutServer = await startServer();
});
timeouts.after(async () => {
  await timeoutServer.stop();
});

timeouts('a timeout longer than the protocol or a Node.js timer carries is the longest it carries, not a deadline passed at once nor a refused header', async () => {
  // connect-node's setTimeout overflowed and fired after 1 ms: deadline_exceeded at once.
  for (const protocol of ['grpc', 'connect', 'grpc-web'] as const) {
    const client = createObservabilityClient(timeoutServer.url, { protocol });
    try {
      // 1e8 ms: more than the 8 digits of a gRPC timeout header in milliseconds, which the server refused.
      for (const timeoutMs of [1e8, 2 ** 31, 1e12, Infinity]) {
        const report = await within(client.health.getHealthReport({}, { timeoutMs }), `GetHealthReport over ${protocol} with timeoutMs ${timeoutMs}`);
        assert.ok(report.status !== undefined);
      }
      const watching = new AbortController();
      const stream = client.anomalies.watchAnomalies({}, { timeoutMs: 2 ** 40, signal: watching.signal });
      const messages = stream[Symbol.asyncIterator]();
      const first = await within(messages.next(), `WatchAnomalies over ${protocol} with a long timeout`);
      assert.is(first.value?.event.case, 'caughtUp');
      // Ended by its caller and read to its end, where connect-node clears its deadline timer.
      watching.abort();
      await messages.next().catch(() => undefined);
    } finally {
      client.close();
    }
  }
});

timeouts.run();
