/**
 * Pipelined HTTP/1.1 requests are served one at a time. Node's parser hands over every request of
 * the bytes it has read at once, and Node runs each handler at once, keeping the answers that
 * cannot go out yet in memory: 200 pipelined GET /metrics of 33 MB on a connection that reads
 * nothing ran the heap out. Here the next request's handler runs only once the answer before it has
 * been handed to the socket (its 'finish') and the socket has drained, so a connection holds one
 * rendered answer at most; while requests wait, the connection is not read (as Node does when
 * answers pile up), so what waits is bounded by one read; a connection with more than
 * MAX_WAITING_REQUESTS waiting is closed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Requests that may wait behind the one being served. Above the 1,000 cheap pipelined calls a
 * client may fairly send in one go (they arrive in one read, all parsed at once), and a bound on
 * the few kilobytes each waiting request costs.
 */
export const MAX_WAITING_REQUESTS = 1024;

type Pair = [IncomingMessage, ServerResponse];

interface Turns {
  busy: boolean;
  waiting: Pair[];
  /** Socket.prototype.resume, while the turns keep the socket from being read. */
  resume: (() => Socket) | undefined;
}

/** The flag Node's HTTP server pauses a connection with (and then pauses its parser after the read in progress). */
type HttpSocket = Socket & { _paused?: boolean; parser?: { pause(): void; resume(): void } | null };

export class Http1Turns {
  private readonly turns = new WeakMap<Socket, Turns>();

  constructor(
    /** Runs a request's handler. */
    private readonly serve: (req: IncomingMessage, res: ServerResponse) => void,
    /** Told of a connection closed for too many waiting requests. */
    private readonly onOverflow: (socket: Socket) => void,
  ) {}

  /** A request has been parsed: served now if its connection is free, else queued. */
  arrive(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as HttpSocket;
    let turns = this.turns.get(socket);
    if (!turns) {
      turns = { busy: false, waiting: [], resume: undefined };
      this.turns.set(socket, turns);
    }
    // The parser goes on with the rest of a read after the socket is destroyed: the requests behind
    // an overflow are dropped with it, and the close is counted once.
    if (socket.destroyed) return;
    if (!turns.busy) return this.start(socket, turns, req, res);
    turns.waiting.push([req, res]);
    if (turns.waiting.length > MAX_WAITING_REQUESTS) {
      turns.waiting.length = 0;
      this.onOverflow(socket);
      socket.destroy();
      return;
    }
    this.hold(socket, turns);
  }

  /**
   * Stops reading the connection. Node resumes a paused connection whenever its answers have gone
   * out (socketOnDrain), which would let the next read's requests in behind the waiting ones, so
   * resume() is a no-op on this socket until the queue is empty.
   */
  private hold(socket: HttpSocket, turns: Turns): void {
    if (turns.resume) return;
    turns.resume = socket.resume;
    socket.resume = () => socket;
    socket._paused = true;
    socket.pause();
  }

  private release(socket: HttpSocket, turns: Turns): void {
    if (!turns.resume) return;
    socket.resume = turns.resume;
    turns.resume = undefined;
    socket._paused = false;
    socket.parser?.resume();
    socket.resume();
  }

  private start(socket: HttpSocket, turns: Turns, req: IncomingMessage, res: ServerResponse): void {
    turns.busy = true;
    let done = false;
    const next = () => {
      if (done || socket.destroyed) return;
      done = true;
      const go = () => {
        turns.busy = false;
        const pair = turns.waiting.shift();
        if (pair) this.start(socket, turns, pair[0], pair[1]);
        // Read again once none waits: the request just started, the last one parsed, may still be
        // receiving its body (or waiting to be invited to send it), which only a read brings.
        if (turns.waiting.length === 0) this.release(socket, turns);
      };
      // The answer is in the socket; the next is rendered once the client has taken enough of it.
      if (socket.writableNeedDrain) socket.once('drain', go);
      else go();
    };
    res.once('finish', next);
    res.once('close', next);
    this.serve(req, res);
  }
}
