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

// trustServer makes the client's own transport trust the test server's certificate.
func trustServer(t *testing.T, c *Client, srv *fakeServer) {
	t.Helper()
	transport := c.httpClient.Transport.(*http.Transport)
	if transport.TLSClientConfig == nil {
		transport.TLSClientConfig = &tls.Config{}
	}
	transport.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
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
			c, err := New(srv.URL, WithProtocol(tc.protocol))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			trustServer(t, c, srv)
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
