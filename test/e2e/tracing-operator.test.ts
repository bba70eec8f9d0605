/**
 * What an operator reads of tracing on stdout and stderr when things go wrong: spans dropped at a
 * full export queue are counted and said, the start-up line says whether OTLP/gRPC uses TLS, the
 * same gRPC failure is written once a minute though grpc-js stamps each with the time, the
 * shutdown line names the cause the exporter met rather than the timeout it led to, a refusal to
 * retry later names its HTTP status, Node's own warnings are left to Node and its flags, and a
 * stdout closed under the service does not end it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient } from '../../clients/ts/client.js';
import { CLI, REPO_ROOT, startServer, type RunningServer } from '../support/server.js';
import { eventually } from './support/rest-http.js';
import { freePort, serviceLines, within } from './support/rpc-helpers.js';
import { OtlpReceiver } from './support/rpc-otlp.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let receiver: OtlpReceiver;

test.before(async () => {
  receiver = await OtlpReceiver.start();
});

test.after(async () => {
  await receiver?.close();
});

function stderrOf(server: RunningServer): string[] {
  return serviceLines(server.output());
}

async function calls(server: RunningServer, n: number, metric = 'operator'): Promise<void> {
  const client = createObservabilityClient(server.url, { protocol: 'grpc' });
  await within(Promise.all(Array.from({ length: n }, (_, i) => client.anomalies.recordSample({ metric, value: i }))), `${n} RecordSample calls`);
}

test('spans dropped at a full export queue are said on stderr at once, counted in all at shutdown, and on /metrics', async () => {
  receiver.delayMs = 1500;
  let scraped = '';
  const before = receiver.spans.length;
  const server = await startServer({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_MAX_QUEUE_SIZE: '20',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
  try {
    // A burst, then quiet: the SDK alone says nothing until a later span finds room.
    await calls(server, 200, 'dropped_burst');
    const first = await eventually('a line saying spans were dropped', async () => stderrOf(server).find((l) => /tracing: \d+ spans? dropped/.test(l)), 5000);
    assert.match(first, /^rs3gw-obs: tracing: \d+ spans? dropped, the export queue being full \(OTEL_BSP_MAX_QUEUE_SIZE=20\); \d+ since start-up$/, first);
    await sleep(2000);
    scraped = await (await fetch(`${server.url}/metrics`)).text();
  } finally {
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    receiver.delayMs = 0;
  }
  const exported = receiver.spans.slice(before).filter((s) => s.attributes['rpc.method'] === 'RecordSample').length;
  const lines = stderrOf(server).filter((l) => l.includes('dropped'));
  const last = lines.at(-1)!;
  const total = Number(/(\d+) since start-up/.exec(last)?.[1] ?? /tracing: (\d+) spans? dropped since start-up/.exec(last)?.[1]);
  assert.ok(exported < 200, `some spans were dropped (${exported} exported)`);
  assert.is(total, 200 - exported, `the last line counts every span lost: ${last}`);
  // Each drop is counted once over the lines, and no line is the SDK's own.
  const counted = lines.reduce((sum, l) => sum + Number(/tracing: (\d+) spans? dropped,/.exec(l)?.[1] ?? 0), 0);
  assert.is(counted, total, lines.join('\n'));
  assert.not.match(server.output(), 'maxQueueSize reached');
  assert.match(scraped, new RegExp(`^rs3gw_tracing_spans_dropped_total ${total}$`, 'm'), 'and /metrics counts them');
});

/** A plaintext (h2c) OTLP/gRPC collector that accepts every export. */
async function plaintextGrpcCollector(): Promise<{ server: Http2Server; port: number; exports: () => number }> {
  let exports = 0;
  const server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      if (headers[':path'] === '/opentelemetry.proto.collector.trace.v1.TraceService/Export') exports++;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      // An empty ExportTraceServiceResponse, in one uncompressed frame.
      stream.end(Buffer.alloc(5));
    });
  });
  server.on('sessionError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, exports: () => exports };
}

test('OTLP/gRPC to host:port: the start-up line says TLS, and with OTEL_EXPORTER_OTLP_INSECURE=true says plaintext, which a plaintext collector then receives', async () => {
  const collector = await plaintextGrpcCollector();
  try {
    const tls = await startServer({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `127.0.0.1:${collector.port}` });
    assert.is(await within(tls.stop(), 'server exit'), 0, tls.output());
    assert.match(tls.output(), `tracing on: spans to OTLP grpc to 127.0.0.1:${collector.port} over TLS (plaintext with OTEL_EXPORTER_OTLP_INSECURE=true or an http:// endpoint), sampler`);

    for (const insecure of ['OTEL_EXPORTER_OTLP_INSECURE', 'OTEL_EXPORTER_OTLP_TRACES_INSECURE']) {
      const before = collector.exports();
      const plain = await startServer({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `127.0.0.1:${collector.port}`, [insecure]: 'true', OTEL_BSP_SCHEDULE_DELAY: '50' });
      try {
        assert.match(plain.output(), `tracing on: spans to OTLP grpc to 127.0.0.1:${collector.port} in plaintext, sampler`, insecure);
        await calls(plain, 1);
        await eventually(`an export to reach the plaintext collector (${insecure})`, async () => (collector.exports() > before ? true : undefined), 10_000);
      } finally {
        assert.is(await within(plain.stop(), 'server exit'), 0, plain.output());
      }
    }
  } finally {
    collector.server.close();
  }
});

test('OTLP/gRPC to an HTTP:// endpoint (schemes are case-insensitive) is plaintext, as start-up says, and a plaintext collector receives it', async () => {
  const collector = await plaintextGrpcCollector();
  try {
    const server = await startServer({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `HTTP://127.0.0.1:${collector.port}`, OTEL_BSP_SCHEDULE_DELAY: '50' });
    try {
      assert.match(server.output(), `tracing on: spans to OTLP grpc to http://127.0.0.1:${collector.port} in plaintext, sampler`);
      await calls(server, 1);
      await eventually('an export to reach the plaintext collector', async () => (collector.exports() > 0 ? true : undefined), 10_000);
    } finally {
      assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    }
    assert.not.match(server.output(), 'OpenTelemetry', server.output());
  } finally {
    collector.server.close();
  }
});

test('a gRPC export failure that grpc-js stamps with the time is written once, not at every retry (the repeat limit holds it for a minute)', async () => {
  // An HTTP/1.1 server as the gRPC endpoint: every connection fails with "Protocol error (<time>)".
  const http1 = createHttpServer((_req, res) => res.end());
  await new Promise<void>((resolve) => http1.listen(0, '127.0.0.1', resolve));
  const port = (http1.address() as { port: number }).port;
  const server = await startServer({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
  try {
    // Six seconds of calls: the reviewer saw failures written at +1, +2, +4 s.
    for (let i = 0; i < 12; i++) {
      await calls(server, 1, 'grpc_protocol_error');
      await sleep(500);
    }
    const failures = stderrOf(server).filter((l) => l.includes('span export failed'));
    assert.is(failures.length, 1, server.output());
    assert.match(failures[0]!, /Protocol error \(\d{4}-\d{2}-\d{2}T/, failures[0]);
  } finally {
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    http1.close();
  }
});

test('a collector that is down at shutdown, OTEL_BSP_EXPORT_TIMEOUT shorter than the exporter\'s retries: the line names the refused connection, not a timeout alone', async () => {
  const server = await startServer({
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '60000',
    OTEL_BSP_EXPORT_TIMEOUT: '2000',
  });
  await calls(server, 1, 'unexported');
  assert.is(await within(server.stop(), 'server exit'), 0, server.output());
  const lines = stderrOf(server);
  assert.is(lines.length, 1, server.output());
  assert.match(
    lines[0]!,
    /^rs3gw-obs: OpenTelemetry error: spans not exported at shutdown: connect ECONNREFUSED 127\.0\.0\.1:\d+; the exporter was still retrying when OTEL_BSP_EXPORT_TIMEOUT \(2000 ms\) ran out \(1 span in exports unanswered at exit\)$/,
    lines[0],
  );
});

test('an export still refused with 503 or 429 after the exporter\'s retries names the status', async () => {
  for (const [status, text] of [
    [503, 'Service Unavailable'],
    [429, 'Too Many Requests'],
  ] as const) {
    receiver.refuseWith = status;
    // The exporter retries a 503 or 429 within OTEL_EXPORTER_OTLP_TIMEOUT, then gives up.
    const server = await startServer({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_EXPORTER_OTLP_TIMEOUT: '1500' });
    try {
      await calls(server, 1, 'refused_export');
      const line = await eventually(`the failure of an export refused with ${status}`, async () => stderrOf(server).find((l) => l.includes('span export failed')), 10_000);
      assert.is(line, `rs3gw-obs: OpenTelemetry error: span export failed: ${text} (HTTP ${status}), still after the exporter's retries`);
    } finally {
      receiver.refuseWith = undefined;
      assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    }
  }
});

test('a refusal without a reason phrase (HTTP/1.1 allows it) is named by its status, once', async () => {
  const collector = createNetServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', () => socket.write('HTTP/1.1 503 \r\ncontent-length: 0\r\n\r\n'));
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  const server = await startServer({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_EXPORTER_OTLP_TIMEOUT: '1500' });
  try {
    await calls(server, 1, 'refused_without_reason');
    const line = await eventually('the failure of an export refused with 503', async () => stderrOf(server).find((l) => l.includes('span export failed')), 10_000);
    assert.is(line, "rs3gw-obs: OpenTelemetry error: span export failed: HTTP 503, still after the exporter's retries");
  } finally {
    assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    collector.close();
  }
});

test('Node\'s warnings are left to Node: another module\'s listener stays, and --no-warnings, --disable-warning and --redirect-warnings hold', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs3gw-warnings-'));
  const heard = join(dir, 'heard.txt');
  // A preloaded agent's listener, and a warning raised once the service runs (its printer replaced).
  const preload = join(dir, 'agent.cjs');
  writeFileSync(preload, `process.on('warning', (w) => require('node:fs').appendFileSync(${JSON.stringify(heard)}, w.message + '\\n'));
setTimeout(() => process.emitWarning('late test warning', { code: 'RS3GW_TEST', detail: 'with its detail' }), 1500).unref();
`);
  const run = async (flags: string): Promise<string> => {
    rmSync(heard, { force: true });
    const server = await startServer({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${flags} --require ${preload}` });
    try {
      await eventually('the preloaded listener to hear the warning', async () => (existsSync(heard) ? true : undefined), 10_000);
      await sleep(200);
    } finally {
      assert.is(await within(server.stop(), 'server exit'), 0, server.output());
    }
    assert.is(readFileSync(heard, 'utf8'), 'late test warning\n', `the agent's listener stays (${flags || 'no flags'})`);
    return server.output();
  };
  try {
    assert.match(await run(''), /^\(node:\d+\) \[RS3GW_TEST\] Warning: late test warning\nwith its detail$/m, 'as Node prints it');
    assert.not.match(await run('--no-warnings'), /late test warning/, '--no-warnings: none printed');
    assert.not.match(await run('--disable-warning=RS3GW_TEST'), /late test warning/, '--disable-warning: that one not printed');
    const redirected = join(dir, 'warnings.log');
    assert.not.match(await run(`--redirect-warnings=${redirected}`), /late test warning/, '--redirect-warnings: not on stderr');
    assert.match(readFileSync(redirected, 'utf8'), /\[RS3GW_TEST\] Warning: late test warning/, 'but in its file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stdout closed under the service (| head -1) does not end it, console exporter included; stderr says so once', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], {
    cwd: REPO_ROOT,
    env: { ...process.env, RS3GW_HOST: '127.0.0.1', OTEL_TRACES_EXPORTER: 'console', OTEL_BSP_SCHEDULE_DELAY: '50' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // As head -1 does: read the first line, then close the pipe.
  await within(new Promise((resolve) => child.stdout.once('data', resolve)), 'the first line on stdout');
  child.stdout.destroy();
  const url = `http://127.0.0.1:${port}`;
  await eventually('the service to listen', async () => (await fetch(`${url}/api/observability/health`).then((r) => r.ok, () => undefined)) || undefined, 10_000);
  const server = { url, output: () => stderr } as RunningServer;
  // Each call's span is printed on the closed stdout.
  for (let i = 0; i < 3; i++) {
    await calls(server, 5, 'closed_stdout');
    await sleep(200);
  }
  assert.is(child.exitCode, null, `the service is still running:\n${stderr}`);
  child.kill('SIGTERM');
  assert.is(await within(exited, 'server exit'), 0, stderr);
  assert.not.match(stderr, /Unhandled|^\s+at /m, stderr);
  const said = stderr.split('\n').filter((l) => l.includes('stdout'));
  assert.is(said.length, 1, stderr);
  assert.match(said[0]!, /^rs3gw-obs: stdout: EPIPE: what the service writes there \(start-up lines, console spans\) is lost from now on; the service goes on$/);
});

test.run();
