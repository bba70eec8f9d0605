/**
 * RS3GW_SEND_TIMEOUT: a response whose bytes wait and of which the client takes none for that long
 * is given up, its memory freed. Only bytes that wait count: a stream with nothing to send (a
 * WatchAnomalies waiting for an event, a CPU profile being captured) is never cut, however long it
 * stays open, and a slow reader that keeps taking some bytes is never cut either.
 *
 * One timer sweeps every watched writer, rather than one timer per write: a write's progress is not
 * an event Node reports (a 33 MB write calls back only when all of it is in the kernel).
 */

/** What the sweep asks of a writer (an HTTP/1.1 or HTTP/2 socket, an HTTP/2 stream). */
export interface SendProbe {
  /** Bytes waiting to be taken by the client now; 0 when there is nothing to send. */
  waiting(): number;
  /** A count that grows whenever the client takes some of them (any unit: only changes matter). */
  taken(): number;
  /** Gives the response up: closes the connection, or resets the stream. */
  cut(): void;
}

/**
 * Writers watched as a set, for writers too many and short-lived to watch one by one (HTTP/2
 * streams, one per call): a member is watched only once bytes wait in it, so a unary call's stream
 * costs nothing here.
 */
export interface WatchedSet<K extends object> {
  members(): Iterable<K>;
  /** Bytes waiting in `member` now. */
  waiting(member: K): number;
  probe(member: K): SendProbe;
}

interface Watch {
  probe: SendProbe;
  taken: number;
  /** When the client last took bytes, or when bytes started waiting; undefined while nothing waits. */
  sinceMs: number | undefined;
}

export class SendTimeout {
  private readonly watches = new Map<object, Watch>();
  private readonly sets: WatchedSet<object>[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Writers given up since start-up. */
  cuts = 0;

  constructor(
    readonly timeoutMs: number,
    /** Told of each writer given up (for the log and the count). */
    private readonly onCut: (key: object) => void,
  ) {}

  /** Watches `key` until unwatch(key) (its close). */
  watch(key: object, probe: SendProbe): void {
    this.watches.set(key, { probe, taken: probe.taken(), sinceMs: undefined });
    this.startSweeping();
  }

  /** Watches the members of `set` in which bytes wait, each until unwatch(member) (its close). */
  watchSet<K extends object>(set: WatchedSet<K>): void {
    this.sets.push(set as WatchedSet<object>);
    this.startSweeping();
  }

  unwatch(key: object): void {
    this.watches.delete(key);
    if (this.watches.size === 0 && this.sets.length === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private startSweeping(): void {
    // A tenth of the timeout, at most a second: a stuck response is cut within 1.1 times the timeout.
    this.timer ??= setInterval(() => this.sweep(), Math.max(10, Math.min(1000, this.timeoutMs / 10))).unref();
  }

  private sweep(): void {
    const now = performance.now();
    for (const set of this.sets) {
      for (const member of set.members()) {
        if (!this.watches.has(member) && set.waiting(member) > 0) this.watches.set(member, { probe: set.probe(member), taken: -1, sinceMs: undefined });
      }
    }
    for (const [key, watch] of this.watches) {
      const taken = watch.probe.taken();
      if (watch.probe.waiting() === 0) {
        watch.sinceMs = undefined;
      } else if (watch.sinceMs === undefined || taken !== watch.taken) {
        watch.sinceMs = now;
      } else if (now - watch.sinceMs >= this.timeoutMs) {
        this.unwatch(key);
        this.cuts += 1;
        this.onCut(key);
        watch.probe.cut();
      }
      watch.taken = taken;
    }
  }
}

/** How much of a net.Socket's writes libuv still holds, the kernel not having taken them. */
function libuvQueue(socket: import('node:net').Socket): number {
  return (socket as unknown as { _handle?: { writeQueueSize?: number } })._handle?.writeQueueSize ?? 0;
}

/**
 * Bytes written to a socket that the kernel has not yet taken: a write in progress stays whole in
 * the writable buffer while libuv's queue holds its rest, so the larger of the two.
 */
export function socketUnsentBytes(socket: import('node:net').Socket): number {
  return Math.max(socket.writableLength, libuvQueue(socket));
}

/**
 * The probe of a socket: bytes wait in its writable buffer (HTTP/1.1 writes) or in libuv's queue
 * (all writes, HTTP/2 frames included). libuv's queue shrinks as the kernel takes a write piece by
 * piece; the writable buffer only when a whole write is done. Either shrinking is progress.
 */
export function socketProbe(socket: import('node:net').Socket): SendProbe {
  let taken = 0;
  let lastQueue = 0;
  let lastBuffer = 0;
  return {
    waiting: () => socketUnsentBytes(socket),
    taken: () => {
      const queue = libuvQueue(socket);
      const buffer = socket.writableLength;
      if (queue < lastQueue || buffer < lastBuffer) taken += 1;
      lastQueue = queue;
      lastBuffer = buffer;
      return taken;
    },
    cut: () => socket.destroy(),
  };
}
