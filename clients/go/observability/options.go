package observability

import (
	"crypto/tls"
	"fmt"
	"net/http"

	"connectrpc.com/connect"
)

// Protocol is the RPC protocol a Client speaks.
type Protocol string

const (
	// ProtocolGRPC is the gRPC protocol. New's client sends it over HTTP/2 (h2c for http:// URLs);
	// the server also answers it over HTTP/1.1.
	ProtocolGRPC Protocol = "grpc"
	// ProtocolConnect is the Connect protocol, over HTTP/1.1 (the server's HTTP/2 side speaks only
	// gRPC).
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
	tlsConfig     *tls.Config
	clientOptions []connect.ClientOption
}

// WithProtocol selects the protocol; the default is ProtocolGRPC.
func WithProtocol(p Protocol) Option {
	return func(c *config) { c.protocol = p }
}

// WithHTTPClient replaces the HTTP client New builds for the protocol. For ProtocolConnect it must
// speak HTTP/1.1: the server hands HTTP/2 connections to its gRPC server, which answers Connect
// calls 415 Unsupported Media Type. For ProtocolGRPC either version works (the server answers gRPC
// on HTTP/1.1 too, unary calls and streams, one call per connection at a time), so for example
// http.DefaultClient, which speaks HTTP/1.1 to http:// URLs, can be used.
//
// The client does not own h: Client.Close leaves its connections alone, and closing them is up to
// the caller (h may be shared, as http.DefaultClient is across the process).
func WithHTTPClient(h *http.Client) Option {
	return func(c *config) { c.httpClient = h }
}

// WithTLSConfig sets the TLS configuration of the HTTP client New builds, for https:// URLs: a
// private CA (RootCAs), a client certificate, a server name. The client uses a copy, with the ALPN
// protocols (NextProtos) its protocol needs. New refuses it with an http:// URL or beside
// WithHTTPClient, where it would not be used.
func WithTLSConfig(t *tls.Config) Option {
	return func(c *config) { c.tlsConfig = t }
}

// WithClientOptions adds connect-go options (interceptors, codecs, compression, read limits).
func WithClientOptions(opts ...connect.ClientOption) Option {
	return func(c *config) { c.clientOptions = append(c.clientOptions, opts...) }
}
