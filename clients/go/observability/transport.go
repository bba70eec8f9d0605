package observability

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// maxIdleConnsPerHost is how many idle connections to the server the client keeps for reuse.
const maxIdleConnsPerHost = 64

// newHTTPClient builds an HTTP client that uses only the HTTP version the server routes the
// protocol to. It sets no overall timeout: streams are long-lived, so callers bound calls with
// their contexts. The returned tracker holds every connection the transport dials, for Close.
//
// The transport is built afresh rather than cloned from http.DefaultTransport: a clone carries
// DefaultTransport's HTTP/2 set-up (its TLS config offering ALPN "h2", and its TLSNextProto hook
// handing negotiated h2 connections to DefaultTransport's own HTTP/2 connection pool) even when
// the clone is restricted to HTTP/1.1. The other settings are DefaultTransport's.
func newHTTPClient(p Protocol, tlsConfig *tls.Config) (*http.Client, *connTracker) {
	conns := &connTracker{
		dial: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		conns: map[*trackedConn]struct{}{},
	}
	transport := &http.Transport{
		Proxy:        http.ProxyFromEnvironment,
		DialContext:  conns.DialContext,
		MaxIdleConns: 100,
		// net/http keeps 2 idle connections per host by default. A Client talks to one host, and
		// with the Connect protocol (HTTP/1.1: one call per connection at a time) concurrent
		// callers beyond 2 then close and reopen connections on every call: 32 goroutines left
		// ~166 sockets in TIME_WAIT per 3,200 calls. Keep up to maxIdleConnsPerHost instead.
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSClientConfig:       tlsConfig.Clone(), // nil stays nil
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
	var protocols http.Protocols
	if p == ProtocolGRPC {
		// HTTP/2 only: prior-knowledge h2c for http:// URLs, TLS-negotiated HTTP/2 (ALPN "h2"
		// only) for https://.
		protocols.SetUnencryptedHTTP2(true)
		protocols.SetHTTP2(true)
	} else {
		// HTTP/1.1 only. Over TLS, offer ALPN "http/1.1" and nothing else, so that a TLS front end
		// that also speaks h2 does not pick it for a connection this client reads as HTTP/1.1.
		// The empty, non-nil TLSNextProto keeps net/http from setting up HTTP/2 on the transport.
		protocols.SetHTTP1(true)
		transport.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		if transport.TLSClientConfig == nil {
			transport.TLSClientConfig = &tls.Config{}
		}
		transport.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	transport.Protocols = &protocols
	return &http.Client{Transport: transport}, conns
}

// errClientClosed is the dial error of a client after Close.
var errClientClosed = errors.New("observability: the client is closed")

// connTracker dials the connections of a client's own transport and keeps them until they are
// closed, so that Client.Close can close every one of them. CloseIdleConnections alone is not
// enough: right after a stream is cancelled, net/http's HTTP/2 transport does not count the
// connection as idle yet, and keeps it (and its read goroutine) until the idle timeout.
type connTracker struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu     sync.Mutex
	closed bool
	conns  map[*trackedConn]struct{}
}

// DialContext dials and tracks a connection; after closeAll it refuses to.
func (t *connTracker) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return nil, errClientClosed
	}
	c, err := t.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, tracker: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		_ = c.Close()
		return nil, errClientClosed
	}
	t.conns[tc] = struct{}{}
	return tc, nil
}

// closeAll closes every tracked connection, in use or not, and makes later dials fail.
func (t *connTracker) closeAll() {
	t.mu.Lock()
	t.closed = true
	conns := t.conns
	t.conns = nil
	t.mu.Unlock()
	for c := range conns {
		_ = c.Close()
	}
}

// isClosed reports whether closeAll has run. Nil (a user's HTTP client, which Close leaves alone)
// is never closed.
func (t *connTracker) isClosed() bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// count returns the number of tracked connections not yet closed.
func (t *connTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// trackedConn removes itself from its tracker when closed.
type trackedConn struct {
	net.Conn
	tracker *connTracker
	once    sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.tracker.mu.Lock()
		delete(c.tracker.conns, c)
		c.tracker.mu.Unlock()
	})
	return c.Conn.Close()
}
