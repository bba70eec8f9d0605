package observability

import (
	"context"
	"crypto/tls"
	"net/http"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"

	v1 "github.com/rs3gw/rs3gw-observability/gen/go/rs3gw/observability/v1"
)

// trustServer is the TLS configuration that trusts the test server's certificate, as a private CA.
func trustServer(srv *fakeServer) *tls.Config {
	return &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
}

// A TLS front end offering ALPN h2 and http/1.1: the Connect protocol must negotiate http/1.1 (and
// speak it), and the gRPC protocol h2.
func TestTLSFrontEndOfferingH2AndHTTP1(t *testing.T) {
	for _, tc := range []struct {
		protocol Protocol
		wire     string
	}{
		{ProtocolConnect, "HTTP/1.1"},
		{ProtocolGRPC, "HTTP/2.0"},
	} {
		t.Run(string(tc.protocol), func(t *testing.T) {
			srv := newFakeServer(t, true)
			c, err := New(srv.URL, WithProtocol(tc.protocol), WithTLSConfig(trustServer(srv)))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if _, err := c.Resources.GetResources(ctx, connect.NewRequest(&v1.GetResourcesRequest{})); err != nil {
				t.Fatalf("GetResources over https: %v", err)
			}
			if got := srv.wireProtos(); !slices.Equal(got, []string{tc.wire}) {
				t.Errorf("server saw requests over %q, want [%s]", got, tc.wire)
			}
		})
	}
}

// 32 goroutines sharing a Connect-protocol client keep their connections: the client may keep more
// than net/http's default of 2 idle connections per host, so connections returned to the pool are
// not closed (and others opened) under concurrency.
func TestConnectConcurrentCallsReuseConnections(t *testing.T) {
	srv := newFakeServer(t, false)
	c, err := New(srv.URL, WithProtocol(ProtocolConnect))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const goroutines = 32
	run := func(calls int) {
		errs := make(chan error, goroutines)
		for range goroutines {
			go func() {
				for range calls {
					if _, err := c.Resources.GetResources(ctx, connect.NewRequest(&v1.GetResourcesRequest{})); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range goroutines {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
	const calls = 50
	run(calls)
	// Count the connections the client closed, not those it opened: on a loaded machine net/http
	// dials a new connection whenever none is idle at the moment of a call (one may be on its way
	// back to the pool), and keeps it. With 2 idle connections per host the pool closes every
	// connection beyond those 2 as it comes back: 100 to 350 of them here.
	opened := srv.listener.accepted.Load()
	closed := opened - srv.listener.open.Load()
	if closed > goroutines/2 {
		t.Errorf("%d calls from %d goroutines: the client closed %d of the %d connections it opened, want at most %d",
			goroutines*calls, goroutines, closed, opened, goroutines/2)
	}
}
