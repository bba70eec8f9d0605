/**
 * Connect and gRPC-Web requests refused before their body is read (an unknown method, a wrong
 * HTTP method or content type), many on one keep-alive HTTP/1.1 connection: the service answers
 * each, reads and drops the rest of its body, and holds nothing per request for the rest of the
 * connection's life.
 */
import { Agent, request } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, type RunningServer } from '../support/server.js';
import { scrapeMetrics, within } from './support/rpc-helpers.js';

/** Enough for memory kept per request to stand far above the heap's own swings. */
const REQUESTS = 12_000;
/** A timer and close listener kept per refused request held 3 to 6.5 KB each: 36 to 78 MB here. */
// Un-collected garbage alone read up to 12 MiB on a busy machine; the old code kept some 60 MB here.
const HEAP_GROWTH_BOUND = 24 << 20;

const REFUSALS = [
  { method: 'POST', path: '/rs3gw.observability.v1.AnomalyService/NoSuchMethod', type: 'application/json', status: 404 },
  { method: 'PUT', path: '/rs3gw.observability.v1.ResourceService/GetResources', type: 'application/json', status: 405 },
  { method: 'POST', path: '/rs3gw.observability.v1.ResourceService/GetResources', type: 'text/plain', status: 415 },
  { method: 'POST', path: '/rs3gw.observability.v1.AnomalyService/NoSuchMethod', type: 'application/grpc-web+proto', status: 404 },
] as const;

let server: RunningServer;
let agent: Agent;

test.before(async () => {
  // A young generation of 1 MiB: the heap in use is then mostly what is kept, not garbage not yet collected.
  server = await startServer({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=1`.trim() });
  agent = new Agent({ keepAlive: true, maxSockets: 1 });
});

test.after(async () => {
  agent?.destroy();
  await server?.stop();
});

/** Sends one refused request with a body on the agent's one connection; resolves with its status and the socket. */
function refused(refusal: (typeof REFUSALS)[number]): Promise<{ status: number; socket: object }> {
  const url = new URL(refusal.path, server.url);
  const body = Buffer.from(JSON.stringify({ padding: 'x'.repeat(200) }));
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: refusal.method, agent, headers: { 'content-type': refusal.type, 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket! }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The service's V8 heap in use, as /metrics reports it. */
async function heapUsed(): Promise<number> {
  const value = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(await scrapeMetrics(server.url))?.[1];
  if (value === undefined) throw new Error('/metrics has no nodejs_heap_size_used_bytes');
  return Number(value);
}

test('thousands of refused requests on one keep-alive connection are each answered, keep no memory per request and raise no listener warning', async () => {
  const first = await within(refused(REFUSALS[0]), 'the first refusal');
  for (let i = 0; i < 200; i++) await refused(REFUSALS[i % REFUSALS.length]!); // warm up
  const before = await heapUsed();
  for (let i = 0; i < REQUESTS; i++) {
    const refusal = REFUSALS[i % REFUSALS.length]!;
    const answer = await within(refused(refusal), `refusal ${i}`);
    assert.is(answer.status, refusal.status, `${refusal.method} ${refusal.path} (${refusal.type})`);
    assert.ok(answer.socket === first.socket, `request ${i} went on a new connection`);
  }
  const after = await heapUsed();
  assert.not.match(server.output(), /MaxListenersExceededWarning/, 'the service warned of piling listeners');
  assert.ok(after - before < HEAP_GROWTH_BOUND, `the heap grew by ${((after - before) / 2 ** 20).toFixed(1)} MiB over ${REQUESTS} refusals on one connection`);
});

test.run();
