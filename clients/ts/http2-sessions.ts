/**
 * HTTP/2 sessions for the gRPC transport: streams released once their response is complete, and as
 * many connections as the server's stream limit asks for.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { Http2SessionManager, type GrpcTransportOptions } from '@connectrpc/connect-node';
import {
  constants as http2Constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type ClientSessionRequestOptions,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
  type Settings,
} from 'node:http2';

/** What a transport's `sessionManager` must be (connect-node does not export the interface by name). */
type SessionManager = NonNullable<GrpcTransportOptions['sessionManager']>;

/**
 * connect-node's HTTP/2 session manager, releasing each stream once its response is complete, and
 * leaving a connection a server's early answer has damaged.
 *
 * connect-node 2.1 stops writing a request body when the response ends before it (a server may
 * answer early, as ours does with RESOURCE_EXHAUSTED to a message over RS3GW_MAX_MESSAGE_BYTES),
 * but it neither ends nor resets the HTTP/2 stream. The stream stays open on the client's side, the
 * manager counts it as in use and keeps the connection ref()'d: the process never exits, and
 * idleConnectionTimeoutMs does not apply, as the connection is not idle. Here such a stream is
 * closed with RST_STREAM(NO_ERROR), as RFC 9113 §8.1 has it for a request whose answer is complete;
 * the call's outcome is the server's answer, as before.
 *
 * Node's HTTP/2 session counts the unsent rest of such a body against its maxSessionMemory (10 MB)
 * for good, whatever becomes of the stream: after about 10 MB of them it resets every new stream
 * with ENHANCE_YOUR_CALM as its response comes, and the connection is useless. So the connection
 * is retired: closed gracefully (its streams run to their end), later calls go to a new one, and
 * abort() ends it too. Pass one as `sessionManager` to createGrpcTransport (or
 * createConnectTransport/createGrpcWebTransport with httpVersion '2').
 */
export class ReleasingHttp2SessionManager extends Http2SessionManager {
  /** Retired connections whose streams still run: connect-node's manager no longer knows them. */
  private readonly retired = new Set<ClientHttp2Session>();

  override async request(method: string, path: string, headers: OutgoingHttpHeaders, options: Omit<ClientSessionRequestOptions, 'signal'>): Promise<ClientHttp2Stream> {
    const stream = await super.request(method, path, headers, options);
    const connection = stream.session as ClientHttp2Session | undefined;
    stream.once('end', () => {
      if (stream.writableEnded || stream.closed) return;
      stream.close(http2Constants.NGHTTP2_NO_ERROR);
      this.retire(connection);
    });
    // A connection damaged some other way (or by early answers before this one was retired).
    stream.once('close', () => {
      if (stream.rstCode === http2Constants.NGHTTP2_ENHANCE_YOUR_CALM) this.retire(connection);
    });
    return stream;
  }

  override abort(reason?: Error): void {
    super.abort(reason);
    const error = reason ?? new ConnectError('connection aborted', Code.Canceled);
    for (const connection of this.retired) {
      // As connect-node's abort does: destroy() emits the error, which no one else listens for now.
      connection.once('error', () => {});
      connection.destroy(error, http2Constants.NGHTTP2_CANCEL);
    }
    this.retired.clear();
  }

  /** Closes the connection for new streams; connect-node's manager opens another for the next call. */
  private retire(connection: ClientHttp2Session | undefined): void {
    if (!connection || connection.closed || connection.destroyed) return;
    this.retired.add(connection);
    connection.once('close', () => this.retired.delete(connection));
    connection.close();
  }
}

interface Session {
  manager: ReleasingHttp2SessionManager;
  /** Streams asked for on it and not yet closed. */
  open: number;
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS, or until it is known the pool's assumption (`assumedLimit`). */
  limit: number;
  /** The connection the limit is from. */
  connection?: ClientHttp2Session;
}

/**
 * Streams a session is given before the server's SETTINGS say how many it takes, at most: the
 * least RFC 9113 asks a server to allow, and what Node reports until then (fewer where another
 * connection to the server was told fewer). The streams of a burst beyond the real limit in that
 * first moment are refused (REFUSED_STREAM), which the client retries (refused-stream-retry.ts),
 * or, sent after the SETTINGS came, wait for streams to end.
 */
const ASSUMED_STREAM_LIMIT = 100;

/**
 * Sessions a pool holds at most. Beyond them a call waits, on the session with the fewest streams
 * waiting, for one of its streams to end (as on connect-node's one session), rather than opening a
 * connection per call to a server that allows few streams on each.
 */
const MAX_SESSIONS = 100;

/**
 * Sessions to one server, a new one opened when every session holds as many streams as the server
 * allows on one connection (RS3GW_MAX_STREAMS_PER_CONNECTION, 1,000 by default). One session, as
 * connect-node keeps, queues the streams beyond the limit, and every call after them, until a
 * stream ends: a client holding 1,000 WatchAnomalies streams could make no other call. grpc-go
 * opens another connection too.
 *
 * Bounded: a session whose connection has closed (GOAWAY, an idle timeout, an error) with none of
 * its streams open is dropped; at most MAX_SESSIONS are held; and while the server's last SETTINGS
 * allow no streams (SETTINGS_MAX_CONCURRENT_STREAMS 0, which RFC 9113 §5.1.2 treats as a limit
 * reached, for a short while) no connection is opened for more, since the server would say the same
 * on it: calls wait, as on a full connection, for the server to allow streams again, or for their
 * deadline.
 */
export class Http2SessionPool implements SessionManager {
  readonly authority: string;
  private readonly sessions: Session[] = [];
  private readonly owners = new WeakMap<ClientHttp2Stream, Session>();
  /** Connections whose SETTINGS are followed (a manager reconnects with a new one after an error). */
  private readonly followed = new WeakSet<ClientHttp2Session>();
  /** The limit the server's SETTINGS gave last, on any connection. */
  private lastLimit = ASSUMED_STREAM_LIMIT;
  private closed = false;

  /** `tls`: options for https:// connections (a private CA, a client certificate). */
  constructor(
    private readonly baseUrl: string,
    private readonly tls?: SecureClientSessionOptions,
  ) {
    this.authority = new URL(baseUrl).origin;
  }

  async request(method: string, path: string, headers: OutgoingHttpHeaders, options: Omit<ClientSessionRequestOptions, 'signal'>): Promise<ClientHttp2Stream> {
    // Reached after close() only by a call in progress (a refused one being retried): later calls
    // are refused before this, `canceled`; one in progress fails `unavailable`, as its connection would.
    if (this.closed) throw new ConnectError('the client is closed', Code.Unavailable);
    const session = this.sessions.find((s) => s.open < s.limit) ?? (this.mayOpen() ? this.open() : this.leastLoaded());
    session.open++;
    let stream: ClientHttp2Stream;
    try {
      stream = await session.manager.request(method, path, headers, options);
      // close() came while the manager was getting the stream: connect-node's manager connects
      // again when the connection it was about to use is destroyed, which close() cannot see.
      if (this.closed) {
        stream.on('error', () => {}); // handed to no one: abort() destroys it with the connection
        session.manager.abort();
        throw new ConnectError('the client is closed', Code.Unavailable);
      }
    } catch (error) {
      session.open--;
      this.dropIfDone(session);
      throw error;
    }
    this.follow(session, stream.session as ClientHttp2Session | undefined);
    this.owners.set(stream, session);
    stream.once('close', () => {
      session.open--;
      this.dropIfDone(session);
    });
    return stream;
  }

  /** Sessions held now (each one connection, or none while it reconnects). */
  get size(): number {
    return this.sessions.length;
  }

  notifyResponseByteRead(stream: ClientHttp2Stream): void {
    this.owners.get(stream)?.manager.notifyResponseByteRead(stream);
  }

  /** Closes every session; calls in progress fail, later ones are refused. */
  close(): void {
    this.closed = true;
    for (const s of this.sessions.splice(0)) s.manager.abort();
  }

  /**
   * Keeps the session's limit to its connection's SETTINGS, now and whenever the server sends them;
   * when the connection closes (the manager opens a new one, to a server that may allow fewer
   * streams), back to the assumed limit until the new one's are known.
   */
  private follow(session: Session, connection: ClientHttp2Session | undefined): void {
    if (!connection || this.followed.has(connection)) return;
    this.followed.add(connection);
    session.connection = connection;
    const take = (settings: Settings) => {
      if (settings.maxConcurrentStreams === undefined || session.connection !== connection) return;
      session.limit = settings.maxConcurrentStreams;
      this.lastLimit = settings.maxConcurrentStreams;
    };
    // The SETTINGS may have come before the connection was seen here (then their event is missed),
    // or not yet: Node then reports ASSUMED_STREAM_LIMIT, which says nothing, and the assumption
    // stands until they come.
    if (connection.remoteSettings.maxConcurrentStreams !== ASSUMED_STREAM_LIMIT) take(connection.remoteSettings);
    connection.on('remoteSettings', take);
    connection.once('close', () => {
      if (session.connection !== connection) return;
      session.connection = undefined;
      session.limit = this.assumedLimit();
      this.dropIfDone(session);
    });
  }

  /**
   * Drops a session with no stream open whose connection is gone: kept, it would be reused (and
   * reconnect) only while no other has room, and the pool would never shrink below its peak.
   */
  private dropIfDone(session: Session): void {
    if (session.open > 0) return;
    const state = session.manager.state();
    if (state !== 'closed' && state !== 'error') return;
    const at = this.sessions.indexOf(session);
    if (at >= 0) this.sessions.splice(at, 1);
  }

  /**
   * Whether a call no session has room for gets a new one: not beyond MAX_SESSIONS, nor while the
   * server's last SETTINGS allowed no streams (a new connection would be told the same), unless
   * there is no session at all.
   */
  private mayOpen(): boolean {
    if (this.sessions.length === 0) return true;
    return this.sessions.length < MAX_SESSIONS && this.assumedLimit() > 0;
  }

  /** The session whose queue a call waits in when no session has room and none may be opened. */
  private leastLoaded(): Session {
    return this.sessions.reduce((a, b) => (b.open - b.limit < a.open - a.limit ? b : a));
  }

  /**
   * Streams a connection is given before its SETTINGS come: ASSUMED_STREAM_LIMIT, or fewer where
   * the server's last SETTINGS said fewer (a burst would otherwise be refused connection by
   * connection, each taking only as many as the last).
   */
  private assumedLimit(): number {
    return Math.min(ASSUMED_STREAM_LIMIT, this.lastLimit);
  }

  private open(): Session {
    const session: Session = { manager: new ReleasingHttp2SessionManager(this.baseUrl, undefined, this.tls), open: 0, limit: this.assumedLimit() };
    this.sessions.push(session);
    return session;
  }
}
