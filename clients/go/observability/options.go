package observability

import (
	"fmt"
	"net/http"

	"connectrpc.com/connect"
)

// Protocol is the RPC protocol a Client speaks.
type Protocol string

const (
	// ProtocolGRPC is the gRPC protocol over HTTP/2 (h2c for http:// URLs).
	ProtocolGRPC Protocol = "grpc"
	// ProtocolConnect is the Connect protocol over HTTP/1.1.
	ProtocolConnect Protocol = "connect"
)

// ParseProtocol reads a protocol name as given on a command line: "grpc" or "connect".
func ParseProtocol(name string) (Protocol, error) {
	switch p := Protocol(name); p {
	case ProtocolGRPC, ProtocolConnect:
		return p, nil
	}
	return "", fmt.Errorf("observability: unknown protocol %q (want %q or %q)", name, ProtocolGRPC, ProtocolConnect)
}

// Option configures New.
type Option func(*config)

type config struct {
	protocol      Protocol
	httpClient    *http.Client
	clientOptions []connect.ClientOption
}

// WithProtocol selects the protocol; the default is ProtocolGRPC.
func WithProtocol(p Protocol) Option {
	return func(c *config) { c.protocol = p }
}

// WithHTTPClient replaces the HTTP client New builds for the protocol. It must speak HTTP/2 for
// ProtocolGRPC and HTTP/1.1 for ProtocolConnect, since the server routes by HTTP version.
func WithHTTPClient(h *http.Client) Option {
	return func(c *config) { c.httpClient = h }
}

// WithClientOptions adds connect-go options (interceptors, codecs, compression, read limits).
func WithClientOptions(opts ...connect.ClientOption) Option {
	return func(c *config) { c.clientOptions = append(c.clientOptions, opts...) }
}
