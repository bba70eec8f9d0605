/**
 * The front door's own bookkeeping, in process: what it follows of each HTTP/1.1 connection must
 * leave with the connection, however the connection ends. A request cut off by its client closes
 * after its socket; counting it then put the dead socket back, and with it the request and
 * response, for the life of the process (about 8 KB per dropped Connect stream).
 */
import * as grpc from '@grpc/grpc-js';
import { createServer, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrontDoor } from '../../src/server/front-door.js';
import { SendTimeout } from '../../src/server/send-timeout.js';

const LIMITS = { maxConnections: undefined, firstBytesMs: 10_000, headersMs: 60_000, requestMs: 300_000 };

async function frontDoor(onRequest: (res: ServerResponse) => void) {
  const http1 = createServer((req, res) => {
    req.resume();
    onRequest(res);
  });
  const door = new FrontDoor(http1, new grpc.Server().createConnectionInjector(grpc.ServerCredentials.createInsecure()), LIMITS, new SendTimeout(30_000, () => {}));
  const { port } = await door.listen('127.0.0.1', 0);
  return { door, port, closed: () => once(http1, 'close') };
}

/** Waits until `done` holds, a few seconds at most. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(done(), what);
}

test('connections whose clients leave in the middle of an answer or of a body are not followed once closed', async () => {
  const answers: ServerResponse[] = [];
  const { door, port } = await frontDoor((res) => {
    // A stream that never ends by itself, as a WatchAnomalies subscription.
    res.writeHead(200, { 'content-type': 'application/connect+json' });
    res.write('x');
    answers.push(res);
  });
  try {
    for (let i = 0; i < 20; i++) {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      // Half of them leave during the answer, half in the middle of their request's body.
      const partial = i % 2 === 1;
      socket.write(`POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: ${partial ? 100 : 0}\r\n\r\n${partial ? 'only part' : ''}`);
      if (!partial) await once(socket, 'data');
      socket.destroy();
    }
    await until(() => door.openConnections === 0, `every connection closed (${door.openConnections} open)`);
    await until(() => door.followedHttp1Connections === 0, `no closed connection still followed (${door.followedHttp1Connections})`);
  } finally {
    door.destroyAll();
    await door.stopAccepting();
  }
});

test('a connection that finishes its requests and closes is not followed either', async () => {
  const { door, port } = await frontDoor((res) => res.end('ok'));
  try {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /a HTTP/1.1\r\nhost: a\r\n\r\n');
    await once(socket, 'data');
    assert.is(door.followedHttp1Connections, 1, 'an open keep-alive connection is followed');
    socket.end();
    await until(() => door.followedHttp1Connections === 0, 'the closed connection is not followed');
  } finally {
    door.destroyAll();
    await door.stopAccepting();
  }
});

test.run();
