package observability

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"

	v1 "github.com/rs3gw/rs3gw-observability/gen/go/rs3gw/observability/v1"
	"github.com/rs3gw/rs3gw-observability/gen/go/rs3gw/observability/v1/observabilityv1connect"
)

// fakeServer is an in-process stand-in for the service (ResourceService.GetResources and
// AnomalyService.WatchAnomalies only), for tests about the client's transport: it counts the
// connections it accepts and those still open, and records the HTTP version of each request.
type fakeServer struct {
	*httptest.Server
	listener *countingListener

	mu     sync.Mutex
	protos []string
}

type fakeHandler struct {
	observabilityv1connect.UnimplementedResourceServiceHandler
	observabilityv1connect.UnimplementedAnomalyServiceHandler
}

func (fakeHandler) GetResources(context.Context, *connect.Request[v1.GetResourcesRequest]) (*connect.Response[v1.GetResourcesResponse], error) {
	return connect.NewResponse(&v1.GetResourcesResponse{}), nil
}

// WatchAnomalies sends caught_up and then holds the stream open until the client goes away.
func (h fakeHandler) WatchAnomalies(ctx context.Context, _ *connect.Request[v1.WatchAnomaliesRequest], stream *connect.ServerStream[v1.WatchAnomaliesResponse]) error {
	if err := stream.Send(&v1.WatchAnomaliesResponse{Event: &v1.WatchAnomaliesResponse_CaughtUp{CaughtUp: &v1.WatchCaughtUp{}}}); err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

// newFakeServer starts the fake server. Over TLS it offers ALPN h2 and http/1.1, as a TLS front end
// would; in cleartext it serves HTTP/1.1 and h2c with prior knowledge, as the real server does.
func newFakeServer(t *testing.T, useTLS bool) *fakeServer {
	t.Helper()
	s := &fakeServer{}
	h := fakeHandler{}
	mux := http.NewServeMux()
	mux.Handle(observabilityv1connect.NewResourceServiceHandler(h))
	mux.Handle(observabilityv1connect.NewAnomalyServiceHandler(h))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.protos = append(s.protos, r.Proto)
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
	s.Server = httptest.NewUnstartedServer(handler)
	s.listener = &countingListener{Listener: s.Server.Listener}
	s.Server.Listener = s.listener
	if useTLS {
		s.Server.EnableHTTP2 = true
		s.Server.StartTLS()
	} else {
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		s.Server.Config.Protocols = &p
		s.Server.Start()
	}
	t.Cleanup(s.Server.Close)
	return s
}

// wireProtos returns the HTTP versions of the requests served so far ("HTTP/1.1", "HTTP/2.0").
func (s *fakeServer) wireProtos() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.protos...)
}

// countingListener counts accepted connections and those not yet closed.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
	open     atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	l.open.Add(1)
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
