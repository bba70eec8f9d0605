// Package observability is a typed Go client for rs3gw-observability: one value holding the
// five service clients, speaking either the gRPC protocol or the Connect protocol.
//
// The server listens on one port and routes by HTTP version: HTTP/2 connections go to its native
// gRPC server, HTTP/1.1 to Connect, gRPC-Web and REST. So the gRPC protocol is sent over HTTP/2
// (cleartext h2c with prior knowledge for http:// URLs) and the Connect protocol over HTTP/1.1.
package observability

import (
	"fmt"
	"net/http"
	"net/url"

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
}

// New returns a client for the server at baseURL (e.g. "http://127.0.0.1:9000").
// Without options it speaks the gRPC protocol.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("observability: base URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("observability: base URL %q: want http://host:port or https://host:port", baseURL)
	}

	cfg := config{protocol: ProtocolGRPC}
	for _, opt := range opts {
		opt(&cfg)
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
	clientOpts = append(clientOpts, cfg.clientOptions...)

	httpClient := cfg.httpClient
	if httpClient == nil {
		httpClient = newHTTPClient(cfg.protocol)
	}

	return &Client{
		Profiling:  observabilityv1connect.NewProfilingServiceClient(httpClient, baseURL, clientOpts...),
		Metrics:    observabilityv1connect.NewMetricsServiceClient(httpClient, baseURL, clientOpts...),
		Anomalies:  observabilityv1connect.NewAnomalyServiceClient(httpClient, baseURL, clientOpts...),
		Resources:  observabilityv1connect.NewResourceServiceClient(httpClient, baseURL, clientOpts...),
		Health:     observabilityv1connect.NewHealthReportServiceClient(httpClient, baseURL, clientOpts...),
		protocol:   cfg.protocol,
		httpClient: httpClient,
	}, nil
}

// Protocol returns the protocol the client speaks.
func (c *Client) Protocol() Protocol { return c.protocol }

// Close closes the client's idle connections. Open streams are ended by cancelling their contexts.
func (c *Client) Close() { c.httpClient.CloseIdleConnections() }
