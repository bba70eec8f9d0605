/**
 * One TCP port, two servers. A connection that opens with the HTTP/2 preface ("PRI * HTTP/2.0")
 * is handed to the grpc-js server; anything else is HTTP/1.1 for Connect, gRPC-Web, REST and
 * /metrics. Native gRPC thus runs on grpc-js alone and never pays for the Connect layer.
 */
import type { ConnectionInjector } from '@grpc/grpc-js';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0');

export class FrontDoor {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** HTTP/1.1 connections and their requests in progress (Node tracks neither for a server that never listened). */
  private readonly http1Requests = new Map<Socket, number>();
  private draining = false;

  constructor(
    private readonly http1: HttpServer,
    private readonly grpc: ConnectionInjector,
  ) {
    this.server = createServer((socket) => this.accept(socket));
    http1.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket;
      this.http1Requests.set(socket, (this.http1Requests.get(socket) ?? 0) + 1);
      res.once('close', () => {
        const left = (this.http1Requests.get(socket) ?? 1) - 1;
        this.http1Requests.set(socket, left);
        if (this.draining && left === 0) socket.destroy();
      });
    });
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

  /** From now on HTTP/1.1 connections close as soon as they are idle; idle ones close at once. */
  closeIdleHttp1(): void {
    this.draining = true;
    for (const [socket, active] of this.http1Requests) if (active === 0) socket.destroy();
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
        this.http1Requests.set(socket, 0);
        socket.once('close', () => this.http1Requests.delete(socket));
        if (this.draining) {
          socket.destroy();
          return;
        }
        this.http1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  }
}
