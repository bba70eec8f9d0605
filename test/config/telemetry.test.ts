/** The standard OTEL_* variables, validated like the service's own: a bad value names its variable. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { describeTracing } from '../../src/telemetry/tracing.js';

function rejects(env: Record<string, string>, variable: string): void {
  try {
    loadConfig(env);
    assert.unreachable(`accepted ${JSON.stringify(env)}`);
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.is((error as ConfigError).setting, variable, (error as Error).message);
  }
}

test('OTEL_LOG_LEVEL takes the specification\'s levels in any case, warn by default', () => {
  assert.is(loadConfig({}).telemetry.logLevel, 'warn');
  for (const level of ['NONE', 'error', 'Warn', 'INFO', 'debug', 'VERBOSE', 'all']) assert.is(loadConfig({ OTEL_LOG_LEVEL: level }).telemetry.logLevel, level.toLowerCase());
  assert.is(loadConfig({ OTEL_LOG_LEVEL: ' ' }).telemetry.logLevel, 'warn', 'blank is unset');
  for (const bad of ['trace', 'loud', '3']) rejects({ OTEL_LOG_LEVEL: bad }, 'OTEL_LOG_LEVEL');
});

test('OTEL_BSP_* set the batch span processor, in milliseconds and spans', () => {
  assert.equal(loadConfig({}).telemetry.batch, { scheduledDelayMillis: 1000, exportTimeoutMillis: 30_000, maxQueueSize: 2048, maxExportBatchSize: 512 });
  const t = loadConfig({ OTEL_BSP_SCHEDULE_DELAY: '0', OTEL_BSP_EXPORT_TIMEOUT: '2147483647', OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10' }).telemetry;
  assert.equal(t.batch, { scheduledDelayMillis: 0, exportTimeoutMillis: 2147483647, maxQueueSize: 10, maxExportBatchSize: 10 });
  for (const bad of ['-1', '1.5', '1e3', 'soon', '2147483648']) rejects({ OTEL_BSP_SCHEDULE_DELAY: bad }, 'OTEL_BSP_SCHEDULE_DELAY');
  // An export that may take no time at all, or forever, would fail every export or hang shutdown.
  for (const bad of ['0', '-5', '2147483648', 'never']) rejects({ OTEL_BSP_EXPORT_TIMEOUT: bad }, 'OTEL_BSP_EXPORT_TIMEOUT');
  for (const bad of ['0', '3.5', 'many']) {
    rejects({ OTEL_BSP_MAX_QUEUE_SIZE: bad }, 'OTEL_BSP_MAX_QUEUE_SIZE');
    rejects({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: bad }, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  }
  // The default batch (512) follows a smaller queue, as the SDK does; a batch set larger is refused.
  assert.is(loadConfig({ OTEL_BSP_MAX_QUEUE_SIZE: '100' }).telemetry.batch.maxExportBatchSize, 100);
  rejects({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '101' }, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  assert.equal(loadConfig({ OTEL_BSP_SCHEDULE_DELAY: ' ' }).telemetry.batch.scheduledDelayMillis, 1000, 'blank is unset');
});

test('OTEL_SDK_DISABLED is true or false, in any case; false by default', () => {
  assert.is(loadConfig({}).telemetry.disabled, false);
  assert.is(loadConfig({ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).telemetry.disabled, true);
  assert.is(loadConfig({ OTEL_SDK_DISABLED: 'false' }).telemetry.disabled, false);
  for (const bad of ['yes', '1', 'disabled']) rejects({ OTEL_SDK_DISABLED: bad }, 'OTEL_SDK_DISABLED');
});

test('OTEL_TRACES_EXPORTER is a comma-separated list, or none', () => {
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp,console' }).telemetry.exporters, ['otlp', 'console']);
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: ' Console , otlp,console ' }).telemetry.exporters, ['console', 'otlp'], 'each once, in the order given');
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).telemetry.exporters, []);
  for (const bad of ['zipkin', 'otlp,zipkin', 'otlp,none', ',']) rejects({ OTEL_TRACES_EXPORTER: bad }, 'OTEL_TRACES_EXPORTER');
});

test('OTEL_PROPAGATORS takes tracecontext and baggage, or none; the others are refused by name', () => {
  assert.equal(loadConfig({}).telemetry.propagators, ['tracecontext', 'baggage']);
  assert.equal(loadConfig({ OTEL_PROPAGATORS: 'tracecontext' }).telemetry.propagators, ['tracecontext']);
  assert.equal(loadConfig({ OTEL_PROPAGATORS: 'baggage, TraceContext' }).telemetry.propagators, ['baggage', 'tracecontext']);
  assert.equal(loadConfig({ OTEL_PROPAGATORS: 'none' }).telemetry.propagators, []);
  for (const bad of ['b3', 'tracecontext,b3multi', 'jaeger', 'w3c', 'tracecontext,none']) rejects({ OTEL_PROPAGATORS: bad }, 'OTEL_PROPAGATORS');
  try {
    loadConfig({ OTEL_PROPAGATORS: 'tracecontext,b3' });
  } catch (error) {
    assert.is((error as Error).message, 'OTEL_PROPAGATORS: b3 is not included in this service; use tracecontext, baggage or none');
  }
});

test('OTEL_TRACES_SAMPLER_ARG is read, and checked, only by the samplers that take a ratio', () => {
  for (const sampler of ['always_on', 'always_off', 'parentbased_always_on', 'parentbased_always_off']) {
    assert.is(loadConfig({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: 'abc' }).telemetry.sampler, sampler);
  }
  assert.is(loadConfig({ OTEL_TRACES_SAMPLER_ARG: '7' }).telemetry.sampler, 'parentbased_always_on', 'the default sampler takes none either');
  for (const sampler of ['traceidratio', 'parentbased_traceidratio']) {
    assert.is(loadConfig({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: '0.25' }).telemetry.samplerRatio, 0.25);
    assert.is(loadConfig({ OTEL_TRACES_SAMPLER: sampler }).telemetry.samplerRatio, 1);
    for (const bad of ['abc', '1.5', '-0.1']) rejects({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: bad }, 'OTEL_TRACES_SAMPLER_ARG');
  }
});

test('OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL takes its values in any case', () => {
  assert.is(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'GRPC' }).telemetry.protocol, 'grpc');
  assert.is(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'HTTP/JSON' }).telemetry.protocol, 'http/json');
  rejects({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http' }, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  // The traces variable wins, but a wrong general one is still reported, as for the endpoint.
  rejects({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_PROTOCOL: 'bogus' }, 'OTEL_EXPORTER_OTLP_PROTOCOL');
});

test('OTEL_EXPORTER_OTLP_(TRACES_)HEADERS that the exporter would drop without a word are refused by name', () => {
  loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20secret,x-tenant=a=b', OTEL_EXPORTER_OTLP_TRACES_HEADERS: ' ' });
  // What the exporters are given: decoded, the traces variable's over the other's, names in any case.
  const headers = loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20a, x-tenant = a=b', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'AUTHORIZATION=Bearer%20b' }).telemetry.headers;
  assert.equal(headers, { authorization: 'Bearer b', 'x-tenant': 'a=b' });
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    for (const bad of ['authorization=Bearer%ZZsecret', 'authorization:Bearer secret', '=value', 'bad key=1', 'a=', 'b=x;y', 'x%2Dy=1']) rejects({ [name]: bad }, name);
    // Decoded, a value must be what a header carries: grpc-js threw at start-up showing it, and
    // OTLP/HTTP failed every export.
    for (const bad of ['authorization=Bearer%20s%C3%A9cret', 'authorization=Bearer%20%E2%82%AC', 'authorization=a%0Ab', 'x=%09']) rejects({ [name]: bad }, name);
  }
  // The message names the header, never its value: it may be a token.
  for (const bad of ['authorization=Bearer%ZZs3cret', 'authorization:Bearer s3cret', 'authorization=Bearer s3cret;x', 'authorization=s3cret%C3%A9']) {
    try {
      loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: bad });
    } catch (error) {
      assert.not.match((error as Error).message, /s3cret/, (error as Error).message);
    }
  }
});

test('the spans\' endpoint is derived as the exporters do it, and start-up names it without credentials', () => {
  const endpoint = (env: Record<string, string>) => loadConfig(env).telemetry.endpoint;
  assert.is(endpoint({}), undefined);
  assert.is(endpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/' }), 'http://jaeger:4318/v1/traces', 'OTLP/HTTP adds the signal path');
  assert.is(endpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), 'http://jaeger:4317', 'OTLP/gRPC does not');
  assert.is(endpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/x' }), 'http://b/x', 'the traces endpoint as given');
  const said = describeTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:pw@collector:4318', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=secret' }).telemetry);
  assert.is(said, 'tracing on: spans to OTLP http/protobuf to https://collector:4318/v1/traces, sampler parentbased_always_on');
  const grpc = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
  assert.is(describeTracing(loadConfig({ ...grpc, OTEL_EXPORTER_OTLP_ENDPOINT: 'alice:s3cret@collector:4317' }).telemetry), 'tracing on: spans to OTLP grpc to collector:4317 over TLS (plaintext with OTEL_EXPORTER_OTLP_INSECURE=true or an http:// endpoint), sampler parentbased_always_on', 'a gRPC endpoint without a scheme');
  assert.not.match(describeTracing(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces?api-key=s3cret' }).telemetry), /s3cret/, 'a key in the query');
  assert.is(describeTracing(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp,console', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).telemetry), 'tracing on: spans to OTLP grpc to http://localhost:4317 in plaintext and console (stdout), sampler parentbased_always_on');
});

test('OTLP/HTTP refuses a query or fragment in OTEL_EXPORTER_OTLP_ENDPOINT, where v1/traces would land, unless the traces endpoint is used; the traces endpoint may have one', () => {
  for (const bad of ['http://collector:4318/base?key=s3cret', 'http://collector:4318/?', 'https://collector:4318#s3cret']) {
    for (const protocol of ['http/protobuf', 'http/json']) rejects({ OTEL_EXPORTER_OTLP_ENDPOINT: bad, OTEL_EXPORTER_OTLP_PROTOCOL: protocol }, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    assert.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: bad }), (e: Error) => !e.message.includes('s3cret'), 'the query is not shown');
  }
  assert.is(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces?key=s3cret' }).telemetry.endpoint, 'http://collector:4318/v1/traces?key=s3cret');
  assert.is(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://u:p@collector:4318/base/' }).telemetry.endpoint, 'http://u:p@collector:4318/base/v1/traces');
  // Where the traces endpoint is set, spans do not use the general one, which other signals may.
  const both = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector/otlp?tenant=a', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces' };
  assert.is(loadConfig(both).telemetry.endpoint, 'https://collector/v1/traces');
});

test('OTLP/gRPC uses TLS as the exporter decides it, and OTEL_EXPORTER_OTLP_(TRACES_)INSECURE is true or false where OTLP/gRPC reads it', () => {
  const tls = (env: Record<string, string>) => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', ...env }).telemetry.grpcTls;
  assert.is(tls({}), false, 'the default endpoint, http://localhost:4317');
  assert.is(tls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317' }), false, 'http:// is plaintext');
  assert.is(tls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_INSECURE: 'false' }), false, 'http:// wins over INSECURE');
  assert.is(tls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4317', OTEL_EXPORTER_OTLP_INSECURE: 'true' }), true, 'https:// wins over INSECURE');
  assert.is(tls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'HTTP://collector:4317' }), false, 'a scheme in any case');
  assert.is(tls({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'Https://collector:4317', OTEL_EXPORTER_OTLP_INSECURE: 'true' }), true);
  assert.is(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'HTTP://collector:4317' }).telemetry.endpoint, 'http://collector:4317', 'the exporter is given it in lower case');
  assert.is(describeTracing(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'HTTP://collector:4317' }).telemetry), 'tracing on: spans to OTLP grpc to http://collector:4317 in plaintext, sampler parentbased_always_on');
  assert.is(tls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }), true, 'host:port is TLS by default');
  assert.is(tls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'unix:///run/otel.sock' }), true, 'unix:// too');
  assert.is(tls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317', OTEL_EXPORTER_OTLP_INSECURE: 'TRUE' }), false);
  assert.is(tls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317', OTEL_EXPORTER_OTLP_INSECURE: 'true', OTEL_EXPORTER_OTLP_TRACES_INSECURE: 'false' }), true, 'the traces variable wins');
  assert.is(tls({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317', OTEL_EXPORTER_OTLP_INSECURE: 'true', OTEL_EXPORTER_OTLP_TRACES_INSECURE: ' ' }), false, 'blank counts as unset');
  assert.is(describeTracing(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4317' }).telemetry), 'tracing on: spans to OTLP grpc to https://collector:4317 over TLS, sampler parentbased_always_on', 'https:// is TLS whatever INSECURE says: no hint');
  for (const name of ['OTEL_EXPORTER_OTLP_INSECURE', 'OTEL_EXPORTER_OTLP_TRACES_INSECURE']) {
    assert.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', [name]: 'yes' }), (e: Error) => e instanceof ConfigError && e.message.includes(name), `${name}=yes is refused, not read as false`);
    // OTLP/HTTP does not read it (as the exporter does not): a value there stops nothing.
    assert.is(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', [name]: '1' }).telemetry.grpcTls, false, `${name}=1 with OTLP/HTTP`);
  }
});

const TLS_FIXTURES = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));

test('OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT and _COMPRESSION, which the exporter only warned about, are refused by name', () => {
  assert.is(loadConfig({}).telemetry.otlpTimeoutMillis, 10_000);
  assert.is(loadConfig({}).telemetry.compression, 'none');
  assert.is(loadConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }).telemetry.otlpTimeoutMillis, 2500);
  assert.is(loadConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '700' }).telemetry.otlpTimeoutMillis, 700, 'the traces variable wins');
  assert.is(loadConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: ' ' }).telemetry.otlpTimeoutMillis, 2500, 'blank is unset');
  assert.is(loadConfig({ OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP' }).telemetry.compression, 'gzip');
  assert.is(loadConfig({ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none' }).telemetry.compression, 'none');
  for (const name of ['OTEL_EXPORTER_OTLP_TIMEOUT', 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT']) {
    for (const bad of ['abc', '-5', '0', '1.5', '1e3', '2147483648']) rejects({ [name]: bad }, name);
  }
  for (const name of ['OTEL_EXPORTER_OTLP_COMPRESSION', 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION']) {
    for (const bad of ['zstd', 'gzip,none', 'deflate']) rejects({ [name]: bad }, name);
  }
  // A mistake in the general variable is refused even where the traces one overrides it.
  rejects({ OTEL_EXPORTER_OTLP_TIMEOUT: 'abc', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '700' }, 'OTEL_EXPORTER_OTLP_TIMEOUT');
});

test('the certificate files of OTLP over TLS are read and checked at start-up when spans go to OTLP', () => {
  const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318' };
  const cert = `${TLS_FIXTURES}server-cert.pem`;
  const key = `${TLS_FIXTURES}server-key.pem`;
  assert.equal(loadConfig(otlp).telemetry.otlpTls, {});
  const files = loadConfig({ ...otlp, OTEL_EXPORTER_OTLP_CERTIFICATE: cert, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cert, OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: key }).telemetry.otlpTls;
  assert.equal(files, { ca: readFileSync(cert), cert: readFileSync(cert), key: readFileSync(key) });
  assert.equal(loadConfig({ ...otlp, OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent', OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: cert }).telemetry.otlpTls.ca, readFileSync(cert), 'the traces variable wins');
  for (const what of ['CERTIFICATE', 'TRACES_CERTIFICATE']) {
    const name = `OTEL_EXPORTER_OTLP_${what}`;
    rejects({ ...otlp, [name]: '/nonexistent' }, name);
    rejects({ ...otlp, [name]: key }, name);
    rejects({ ...otlp, [name]: TLS_FIXTURES }, name);
    // A device or FIFO is refused before it is read: /dev/zero filled memory, a FIFO held start-up.
    rejects({ ...otlp, [name]: '/dev/zero' }, name);
  }
  rejects({ ...otlp, OTEL_EXPORTER_OTLP_CLIENT_KEY: key }, 'OTEL_EXPORTER_OTLP_CLIENT_KEY');
  rejects({ ...otlp, OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: cert }, 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE');
  rejects({ ...otlp, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: key, OTEL_EXPORTER_OTLP_CLIENT_KEY: key }, 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE');
  rejects({ ...otlp, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cert, OTEL_EXPORTER_OTLP_CLIENT_KEY: cert }, 'OTEL_EXPORTER_OTLP_CLIENT_KEY');
  rejects({ ...otlp, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cert, OTEL_EXPORTER_OTLP_CLIENT_KEY: '/nonexistent' }, 'OTEL_EXPORTER_OTLP_CLIENT_KEY');
  // Not read where no OTLP exporter would use them.
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent' }).telemetry.otlpTls, {});
  assert.equal(loadConfig({ ...otlp, OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent' }).telemetry.otlpTls, {});
  assert.equal(loadConfig({ ...otlp, OTEL_TRACES_EXPORTER: 'console', OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent' }).telemetry.otlpTls, {});
  // Nor where the exporter speaks no TLS: environments often set them for every service.
  const missing = { OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent', OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cert };
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', ...missing }).telemetry.otlpTls, {});
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', ...missing }).telemetry.otlpTls, {});
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317', OTEL_EXPORTER_OTLP_INSECURE: 'true', ...missing }).telemetry.otlpTls, {});
  rejects({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317', ...missing }, 'OTEL_EXPORTER_OTLP_CERTIFICATE');
});

test('attributes from client input are bounded at 1024 characters unless OTEL_(SPAN_)ATTRIBUTE_VALUE_LENGTH_LIMIT sets a bound for all', () => {
  const bound = (env: Record<string, string>) => loadConfig(env).telemetry.clientAttributeMaxChars;
  assert.is(bound({}), 1024);
  assert.is(bound({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '4096' }), Infinity, 'the SDK applies the variable itself');
  assert.is(bound({ OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64' }), Infinity);
  assert.throws(() => loadConfig({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: 'lots' }), (e: Error) => e instanceof ConfigError && e.message.includes('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'));
});

test.run();
