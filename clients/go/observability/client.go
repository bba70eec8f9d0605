// Package observability is a typed Go client for rs3gw-observability: one value holding the
// five service clients, speaking either the gRPC protocol or the Connect protocol.
//
// The server listens on one port and routes by HTTP version: HTTP/2 connections go to its native
// gRPC server, which speaks only gRPC; HTTP/1.1 goes to handlers that speak Connect, gRPC, gRPC-Web
// and REST. So the Connect protocol must use HTTP/1.1, and the client sends it over HTTP/1.1 only.
// The gRPC protocol works over either version; the client sends it over HTTP/2 only (cleartext h2c
// with prior knowledge for http:// URLs, ALPN "h2" for https://), because HTTP/2 carries all of a
// client's concurrent calls and streams on one connection, where HTTP/1.1 needs a connection per
// call in progress, and because that is how gRPC servers and proxies expect gRPC.
package observability

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"connectrpc.com/connect"

	"github.com/rs3gw/rs3gw-observability/gen/go/rs3gw/observability/v1/observabilityv1connect"
)

// Client holds one client per service of rs3gw-observability.
type Client struct {
	Profiling observabilityv1connect.ProfilingServiceClient
	Metrics   observabilityv1connect.MetricsServiceClient
	Anomalies observabilityv1connect.AnomalyServiceClient
	Resources observabilityv1connect.ResourceServiceClient
	Health    observabilityv1connect.HealthReportServiceClient

	protocol   Protocol
	httpClient *http.Client
	// conns tracks the connections of the client's own transport; nil with WithHTTPClient, whose
	// connections are not the client's to close.
	conns *connTracker
}

// New returns a client for the server at baseURL (e.g. "http://127.0.0.1:9000"): scheme http or
// https, a host, optionally a path prefix (for a reverse proxy), no query and no fragment.
// Without options it speaks the gRPC protocol.
func New(baseURL string, opts ...Option) (*Client, error) {
	if err := checkBaseURL(baseURL); err != nil {
		return nil, err
	}

	cfg := config{protocol: ProtocolGRPC}
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("observability: option %d is nil", i)
		}
		opt(&cfg)
	}

	// A TLS configuration that would not be used is refused, not dropped: the calls would go out
	// in plaintext, or without the client certificate, with no word.
	if cfg.tlsConfig != nil && cfg.httpClient != nil {
		return nil, fmt.Errorf("observability: WithTLSConfig configures the HTTP client New builds, and WithHTTPClient replaces it; set the TLS configuration on your own client's transport")
	}
	if cfg.tlsConfig != nil && strings.HasPrefix(strings.ToLower(baseURL), "http://") {
		return nil, fmt.Errorf("observability: WithTLSConfig is for https:// URLs, and base URL %q is http://", baseURL)
	}

	var clientOpts []connect.ClientOption
	switch cfg.protocol {
	case ProtocolGRPC:
		clientOpts = append(clientOpts, connect.WithGRPC())
	case ProtocolConnect:
		// The Connect protocol is connect-go's default: no option needed.
	default:
		return nil, fmt.Errorf("observability: unknown protocol %q", cfg.protocol)
	}
	httpClient := cfg.httpClient
	var conns *connTracker
	if httpClient == nil {
		httpClient, conns = newHTTPClient(cfg.protocol, cfg.tlsConfig)
	}
	clientOpts = append(clientOpts, cfg.clientOptions...)
	// Last, so that it is the innermost interceptor and the caller's (a retry, say) see
	// CodeUnavailable too.
	clientOpts = append(clientOpts, connect.WithInterceptors(brokenConnectionAsUnavailable{conns: conns}))

	return &Client{
		Profiling:  observabilityv1connect.NewProfilingServiceClient(httpClient, baseURL, clientOpts...),
		Metrics:    observabilityv1connect.NewMetricsServiceClient(httpClient, baseURL, clientOpts...),
		Anomalies:  observabilityv1connect.NewAnomalyServiceClient(httpClient, baseURL, clientOpts...),
		Resources:  observabilityv1connect.NewResourceServiceClient(httpClient, baseURL, clientOpts...),
		Health:     observabilityv1connect.NewHealthReportServiceClient(httpClient, baseURL, clientOpts...),
		protocol:   cfg.protocol,
		httpClient: httpClient,
		conns:      conns,
	}, nil
}

// checkBaseURL refuses a base URL the generated clients cannot use: they append
// "/package.Service/Method" to it as a string, so the method's path would land in a query or
// fragment (and a missing scheme or host would fail only at the first call).
func checkBaseURL(baseURL string) error {
	const want = "want http://host[:port][/path] or https://host[:port][/path]"
	if !strings.Contains(baseURL, "://") {
		return fmt.Errorf("observability: base URL %q has no scheme; %s", baseURL, want)
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return fmt.Errorf("observability: base URL %q: %w", baseURL, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("observability: base URL %q: scheme %q is not http or https; %s", baseURL, u.Scheme, want)
	case u.Hostname() == "":
		return fmt.Errorf("observability: base URL %q has no host; %s", baseURL, want)
	case !validPort(u.Port()):
		return fmt.Errorf("observability: base URL %q: port %q is not from 1 to 65535; %s", baseURL, u.Port(), want)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("observability: base URL %q has a query (?...), to which the method's path would be appended; %s", baseURL, want)
	case u.Fragment != "" || strings.Contains(baseURL, "#"):
		return fmt.Errorf("observability: base URL %q has a fragment (#...), to which the method's path would be appended; %s", baseURL, want)
	}
	return nil
}

// validPort reports whether a URL's port (empty for the scheme's default) is one a dial can use.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// Protocol returns the protocol the client speaks.
func (c *Client) Protocol() Protocol { return c.protocol }

// Close closes every connection the client opened, idle or not: calls and streams still in flight
// on them fail with CodeUnavailable, and later calls fail without connecting, with CodeCanceled
// ("the client is closed"). End streams by cancelling their contexts first for a clean end. Close
// may be called more than once.
//
// With WithHTTPClient, the connections belong to that HTTP client, which may be shared (for
// example http.DefaultClient, whose transport is process-wide): Close then does nothing, and
// closing them (CloseIdleConnections, or closing the transport's connections) is up to its owner.
func (c *Client) Close() {
	if c.conns == nil {
		return
	}
	c.conns.closeAll()
	c.httpClient.CloseIdleConnections() // drops the transport's references to the closed connections
}
