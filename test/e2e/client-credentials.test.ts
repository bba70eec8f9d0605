/**
 * Credentials in the TS client's base URL (a proxy in front of the service that asks for Basic
 * authorization) reach the wire on every protocol, as Go's client sends them. The peer here records
 * the headers it is sent: the service itself asks for no credentials, so it cannot show them.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, type Protocol } from '../../clients/ts/client.js';
import { failure } from './support/rpc-helpers.js';

const test = suite('TS client: credentials in the base URL');
const seen: IncomingHttpHeaders[] = [];
let http1: Server;
let http2: Http2Server;

/** Answers every request 401 (the proxy's refusal) after noting its headers. */
function refuse(req: { headers: IncomingHttpHeaders }, res: { writeHead(status: number): unknown; end(): void }): void {
  seen.push(req.headers);
  res.writeHead(401);
  res.end();
}

const port = (server: Server | Http2Server): number => (server.address() as AddressInfo).port;
const listen = (server: Server | Http2Server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

test.before(async () => {
  http1 = createHttpServer(refuse);
  http2 = createHttp2Server(refuse);
  await Promise.all([listen(http1), listen(http2)]);
});

test.after(async () => {
  await Promise.all([new Promise((resolve) => http1.close(resolve)), new Promise((resolve) => http2.close(resolve))]);
});

/** The authorization header of one GetHealthReport call through a client made for `credentials`. */
async function authorizationSent(protocol: Protocol, credentials: string, header?: string): Promise<string | undefined> {
  const target = protocol === 'grpc' ? port(http2) : port(http1);
  const client = createObservabilityClient(`http://${credentials}127.0.0.1:${target}`, { protocol });
  seen.length = 0;
  try {
    await failure(client.health.getHealthReport({}, header === undefined ? {} : { headers: { authorization: header } }), `${protocol} GetHealthReport`);
  } finally {
    client.close();
  }
  assert.is(seen.length, 1, `${protocol}: one request`);
  return seen[0].authorization;
}

const basic = (userPassword: string) => `Basic ${Buffer.from(userPassword).toString('base64')}`;

test('every protocol sends the base URL credentials as Basic authorization, decoded', async () => {
  for (const protocol of ['grpc', 'connect', 'grpc-web'] as const) {
    // gRPC sent none: connect-node's HTTP/2 transport drops them.
    assert.is(await authorizationSent(protocol, 'ops:s%40cret%3Ax@'), basic('ops:s@cret:x'), protocol);
    assert.is(await authorizationSent(protocol, 'ops@'), basic('ops:'), `${protocol}, user only`);
    assert.is(await authorizationSent(protocol, ''), undefined, `${protocol}, none`);
  }
});

test("a call's own authorization header wins over the URL's credentials", async () => {
  for (const protocol of ['grpc', 'connect', 'grpc-web'] as const) {
    assert.is(await authorizationSent(protocol, 'ops:secret@', 'Bearer t0ken'), 'Bearer t0ken', protocol);
  }
});

test('credentials whose escapes decode to no UTF-8 are refused at creation', () => {
  for (const protocol of ['grpc', 'connect', 'grpc-web'] as const) {
    assert.throws(
      () => createObservabilityClient('http://ops:%ff@127.0.0.1:9', { protocol }),
      (error: Error) => error.message.includes('has credentials whose escapes are not UTF-8'),
      protocol,
    );
  }
});

test.run();
