/**
 * One TCP port, two servers. A connection that opens with the HTTP/2 preface ("PRI * HTTP/2.0")
 * is handed to the grpc-js server; anything else is HTTP/1.1 for Connect, gRPC-Web, REST and
 * /metrics. Native gRPC thus runs on grpc-js alone and never pays for the Connect layer.
 */
import type { ConnectionInjector } from '@grpc/grpc-js';
import type { Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0');

export class FrontDoor {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly http1: HttpServer,
    private readonly grpc: ConnectionInjector,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting connections; open ones are closed by their servers or by destroyAll. */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const http2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (http2 && n < PREFACE.length) return; // not sure yet: wait for more bytes
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (http2) {
        // The HTTP/2 session reads what is buffered, then takes over the socket's handle itself.
        this.grpc.injectConnection(socket);
      } else {
        this.http1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  }
}
