/**
 * The shipped TS client over TLS, on every protocol: a TLS front end (as a proxy in front of the
 * service would be) with a certificate of a private CA, which the client trusts through its `tls`
 * option. The fixture's certificate is self-signed for localhost and 127.0.0.1, valid for a century:
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server-key.pem \
 *     -out server-cert.pem -days 36500 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1
 */
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Code, ConnectError } from '@connectrpc/connect';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObservabilityClient, type Protocol } from '../../clients/ts/client.js';
import { REPO_ROOT, startServer, type RunningServer } from '../support/server.js';
import { failure, within } from './support/rpc-helpers.js';

const test = suite('TS client over TLS');
const FIXTURES = `${REPO_ROOT}test/fixtures/tls/`;
const ca = readFileSync(`${FIXTURES}server-cert.pem`);
const PROTOCOLS: Protocol[] = ['grpc', 'connect', 'grpc-web'];
let server: RunningServer;
let front: TlsServer;
let frontUrl: string;

test.before(async () => {
  server = await startServer();
  const port = Number(new URL(server.url).port);
  // Terminates TLS and passes the bytes on: the service tells HTTP/2 from HTTP/1.1 itself.
  front = createTlsServer({ key: readFileSync(`${FIXTURES}server-key.pem`), cert: ca, ALPNProtocols: ['h2', 'http/1.1'] }, (socket) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontUrl = `https://localhost:${(front.address() as AddressInfo).port}`;
});

test.after(async () => {
  await new Promise<void>((resolve) => front.close(() => resolve()));
  await server.stop();
});

test('with the private CA in its tls option, the client calls the service over TLS on every protocol', async () => {
  for (const protocol of PROTOCOLS) {
    const client = createObservabilityClient(frontUrl, { protocol, tls: { ca } });
    try {
      const report = await within(client.health.getHealthReport({}), `GetHealthReport over ${protocol} and TLS`);
      assert.ok(report.status !== undefined, protocol);
    } finally {
      client.close();
    }
  }
});

test('without it, the server certificate is not trusted: the call fails unavailable, as a refused connection and the Go client do, naming the TLS error', async () => {
  for (const protocol of PROTOCOLS) {
    const client = createObservabilityClient(frontUrl, { protocol });
    try {
      const error = await failure(client.health.getHealthReport({}), `GetHealthReport over ${protocol} with an untrusted certificate`);
      assert.is(error.code, Code.Unavailable, `${protocol}: ${errorChain(error)}`);
      assert.match(error.rawMessage, /self[- ]signed certificate/i, `${protocol}: ${errorChain(error)}`);
    } finally {
      client.close();
    }
  }
});

test('a certificate not for the name verified fails unavailable too, naming the mismatch', async () => {
  for (const protocol of PROTOCOLS) {
    const client = createObservabilityClient(frontUrl, { protocol, tls: { ca, servername: 'other.example' } });
    try {
      const error = await failure(client.health.getHealthReport({}), `GetHealthReport over ${protocol} verifying another name`);
      assert.is(error.code, Code.Unavailable, `${protocol}: ${errorChain(error)}`);
      assert.match(error.rawMessage, /other\.example/, `${protocol}: ${errorChain(error)}`);
    } finally {
      client.close();
    }
  }
});

test('tls options with an http:// base URL are refused, naming the URL', () => {
  assert.throws(
    () => createObservabilityClient(server.url, { tls: { ca } }),
    (e: Error) => e.message.includes('tls options') && e.message.includes(server.url),
  );
});

test('an https:// URL for a port that speaks no TLS fails unavailable on every protocol, as the Go client says it', async () => {
  // Connect and gRPC-Web said internal ("write EPROTO ... wrong version number").
  const cleartext = server.url.replace(/^http:/, 'https:');
  for (const protocol of PROTOCOLS) {
    const client = createObservabilityClient(cleartext, { protocol });
    try {
      const error = await failure(client.health.getHealthReport({}), `GetHealthReport over ${protocol} to a cleartext port`);
      assert.is(error.code, Code.Unavailable, `${protocol}: ${errorChain(error)}`);
    } finally {
      client.close();
    }
  }
});

test('tls options that cannot make a TLS context are refused at creation, naming the problem', () => {
  // They failed each call instead, internal, unknown or unavailable (an invitation to retry) by protocol.
  // A CA that is no certificate Node skipped without a word, and every call failed unavailable.
  const broken = ca.toString('latin1').replace(/\n[A-Za-z0-9+/]{20}/, '\n' + 'A'.repeat(20));
  for (const tls of [{ cert: 'x', key: 'y' }, { minVersion: 'TLSv9' as never }, { ca: 'garbage' }, { ca: [ca, Buffer.from('garbage')] }, { ca: broken }]) {
    for (const protocol of PROTOCOLS) {
      assert.throws(() => createObservabilityClient(frontUrl, { protocol, tls }), (e: Error) => e.message.startsWith('tls options: '), `${protocol}: ${JSON.stringify(tls)}`);
    }
  }
});

/** The messages of an error and its causes. */
function errorChain(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    parts.push(e instanceof ConnectError ? `${Code[e.code]}: ${e.rawMessage}` : e.message);
  }
  return parts.join(' <- ');
}

test.run();
