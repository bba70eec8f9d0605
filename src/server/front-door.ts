/**
 * One TCP port, two servers. A connection that opens with the HTTP/2 client preface
 * ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", then a SETTINGS frame) is handed to the grpc-js server;
 * anything else is HTTP/1.1 for Connect, gRPC-Web, REST and /metrics. Native gRPC thus runs on
 * grpc-js alone and never pays for the Connect layer.
 */
import type { ConnectionInjector } from '@grpc/grpc-js';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { CountedLog } from '../core/counted-log.js';
import { logLine } from '../core/log-line.js';
import { Http1Turns, MAX_WAITING_REQUESTS } from './http1-turns.js';
import { socketProbe, socketUnsentBytes, type SendTimeout } from './send-timeout.js';

const MAGIC = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const FRAME_HEADER_BYTES = 9;
const SETTINGS_FRAME = 0x4;
/** HTTP/2's initial SETTINGS_MAX_FRAME_SIZE: a longer first frame is refused by the server anyway. */
const MAX_FIRST_FRAME_BYTES = 16_384;
const DROP_REPORT_INTERVAL_MS = 60_000;

/**
 * Whether `seen` opens an HTTP/2 connection: 'no' at the first byte that is not the preface,
 * 'maybe' while the preface is incomplete. The front door waits for the whole of it, the SETTINGS
 * frame included, so that a client that stops halfway is still the front door's to time out:
 * grpc-js, once it has the connection, would wait for the rest forever.
 */
function http2Preface(seen: Buffer): 'yes' | 'no' | 'maybe' {
  const n = Math.min(seen.length, MAGIC.length);
  if (!seen.subarray(0, n).equals(MAGIC.subarray(0, n))) return 'no';
  if (seen.length < MAGIC.length + FRAME_HEADER_BYTES) return 'maybe';
  const length = seen.readUIntBE(MAGIC.length, 3);
  // Anything but a SETTINGS frame of a size HTTP/2 allows is for the HTTP/2 session to refuse.
  if (seen[MAGIC.length + 3] !== SETTINGS_FRAME || length > MAX_FIRST_FRAME_BYTES) return 'yes';
  return seen.length < MAGIC.length + FRAME_HEADER_BYTES + length ? 'maybe' : 'yes';
}

/** Bounds on connections: their number, and the time slow or silent clients may take, in milliseconds. */
export interface ConnectionLimits {
  /** Open connections at most (net.Server's maxConnections); undefined for no cap. */
  maxConnections: number | undefined;
  /** A connection that has not shown its protocol by then (the whole HTTP/2 preface, or a first byte that is not one) is closed. */
  firstBytesMs: number;
  /** Node's headersTimeout and requestTimeout for HTTP/1.1: past them a request gets 408 and its connection closes. */
  headersMs: number;
  requestMs: number;
}

/** What the front door reports in the log and /metrics: connections closed for what their clients did. */
export type ConnectionCut = 'refused' | 'pipelined' | 'send_timeout';

/** Silence after which TCP keepalive starts probing a connection (see accept). */
const KEEPALIVE_IDLE_MS = 60_000;

export class FrontDoor {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** HTTP/1.1 connections and their requests in progress, so that a drain closes each as soon as it is idle. */
  private readonly http1Requests = new Map<Socket, number>();
  /** Connections that have not yet shown which protocol they speak (some clients open one ahead of need). */
  private readonly unclassified = new Set<Socket>();
  private readonly firstBytesMs: number;
  private draining = false;
  /** Connections refused at the cap, or closed for too many pipelined requests or a stuck answer: a flood must not flood the log too. */
  private readonly refusals: CountedLog<ConnectionCut>;
  private readonly turns: Http1Turns;

  constructor(
    private readonly http1: HttpServer,
    private readonly grpc: ConnectionInjector,
    limits: ConnectionLimits,
    /** Watches every connection's unsent bytes (RS3GW_SEND_TIMEOUT); HTTP/2 streams are watched by the stream guard. */
    private readonly sendTimeout: SendTimeout,
  ) {
    this.firstBytesMs = limits.firstBytesMs;
    // Whole milliseconds, as Node's connection checks take them.
    http1.headersTimeout = Math.round(limits.headersMs);
    http1.requestTimeout = Math.round(limits.requestMs);
    // How often Node checks them (createServer's option, read when they are armed in listen()): half
    // the shorter bound, so a request is cut by 1.5 times its bound; Node's 30 s for its defaults.
    Object.assign(http1, { connectionsCheckingInterval: Math.max(1, Math.round(Math.min(http1.headersTimeout, http1.requestTimeout) / 2)) });
    this.server = createServer((socket) => this.accept(socket));
    const cap = limits.maxConnections;
    const sendSeconds = sendTimeout.timeoutMs / 1000;
    this.refusals = new CountedLog(
      ['refused', 'pipelined', 'send_timeout'],
      ({ refused, pipelined, send_timeout }) => {
        if (refused > 0) logLine(`${refused} connection(s) refused since the line before: ${cap} open connections is the cap (RS3GW_MAX_CONNECTIONS)`);
        if (pipelined > 0) logLine(`${pipelined} HTTP/1.1 connection(s) closed since the line before: more than ${MAX_WAITING_REQUESTS} pipelined requests waited on each`);
        if (send_timeout > 0) logLine(`${send_timeout} connection(s) or HTTP/2 stream(s) given up since the line before: their client took none of the answer's bytes for ${sendSeconds} s (RS3GW_SEND_TIMEOUT)`);
      },
      DROP_REPORT_INTERVAL_MS,
    );
    if (cap !== undefined) {
      this.server.maxConnections = cap;
      this.server.on('drop', () => this.refusals.add('refused'));
    }
    const emit = http1.emit as (this: HttpServer, event: string | symbol, ...args: unknown[]) => boolean;
    this.turns = new Http1Turns(
      (req, res) => emit.call(http1, 'request', req, res),
      () => this.refusals.add('pipelined'),
    );
    // Every request, the ones Node's 'checkContinue' path emits too, goes through the turns of its
    // connection before any handler sees it; it is followed by the drain from its arrival.
    const door = this;
    http1.emit = function (this: HttpServer, event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'request') return emit.call(this, event, ...args);
      const [req, res] = args as [IncomingMessage, ServerResponse];
      door.follow(req, res);
      door.turns.arrive(req, res);
      return true;
    } as HttpServer['emit'];
  }

  /** Counts a request in its connection's until its response closes, so that a drain closes the connection once idle. */
  private follow(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const open = this.http1Requests.get(socket);
    if (open === undefined) return; // its connection has closed already
    this.http1Requests.set(socket, open + 1);
    res.once('close', () => {
      // A request cut off by its client closes after its socket, which has left the map: putting
      // the socket back would keep it, its request and response in memory for good.
      const count = this.http1Requests.get(socket);
      if (count === undefined) return;
      const left = count - 1;
      this.http1Requests.set(socket, left);
      if (this.draining && left === 0) socket.destroy();
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        // An http.Server arms its headersTimeout and requestTimeout checks on 'listening'; this one
        // never listens itself (the front door hands it its connections), so it is told here.
        this.http1.emit('listening');
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting connections; open ones are closed by their servers or by destroyAll. Once all
   * have closed, the refusals not yet logged are.
   */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) =>
      this.server.close(() => {
        this.refusals.flush();
        resolve();
      }),
    );
  }

  /**
   * From now on HTTP/1.1 connections close as soon as they are idle; idle ones close at once, as do
   * connections that have not yet shown their protocol, which can bring no call that may still run.
   */
  closeIdleHttp1(): void {
    this.draining = true;
    for (const [socket, active] of this.http1Requests) if (active === 0) socket.destroy();
    for (const socket of this.unclassified) socket.destroy();
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  /** Connections refused at the cap, or closed for what their clients did, since start-up (HTTP/2 streams reset for a stuck answer among the send_timeout). */
  get closedConnections(): Readonly<Record<ConnectionCut, number>> {
    return this.refusals.totals;
  }

  /** Counts a connection or HTTP/2 stream given up for a stuck answer (SendTimeout's report). */
  countSendTimeout(): void {
    this.refusals.add('send_timeout');
  }

  /**
   * Bytes written to connections that the kernel has not yet taken: an HTTP/1.1 socket's writable
   * buffer (its one answer at a time), and libuv's queue of every socket (HTTP/2 frames included).
   */
  unsentBytes(): number {
    let bytes = 0;
    for (const socket of this.sockets) bytes += socketUnsentBytes(socket);
    return bytes;
  }

  /** HTTP/1.1 connections whose requests the drain is following; each leaves when it closes. */
  get followedHttp1Connections(): number {
    return this.http1Requests.size;
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    this.unclassified.add(socket);
    // Until a server has the connection, nothing else would ever close a silent one.
    const firstBytes = setTimeout(() => socket.destroy(), this.firstBytesMs);
    this.sendTimeout.watch(socket, socketProbe(socket));
    socket.once('close', () => {
      clearTimeout(firstBytes);
      this.sockets.delete(socket);
      this.unclassified.delete(socket);
      this.sendTimeout.unwatch(socket);
    });
    socket.setNoDelay(true);
    // A peer gone without a word (its host died, a NAT forgot it) while a stream with nothing to
    // send is open would hold the connection, its descriptor and its subscription slot for good:
    // TCP keepalive probes it after a minute of silence, and the kernel closes what goes unanswered.
    socket.setKeepAlive(true, KEEPALIVE_IDLE_MS);
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const preface = http2Preface(seen);
      if (preface === 'maybe') return; // not sure yet: wait for more bytes
      clearTimeout(firstBytes);
      this.unclassified.delete(socket);
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (preface === 'yes') {
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
