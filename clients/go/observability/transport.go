package observability

import "net/http"

// newHTTPClient builds an HTTP client that uses only the HTTP version the server routes the
// protocol to. It sets no overall timeout: streams are long-lived, so callers bound calls with
// their contexts.
func newHTTPClient(p Protocol) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	var protocols http.Protocols
	if p == ProtocolGRPC {
		// HTTP/2 only: prior-knowledge h2c for http:// URLs, TLS-negotiated HTTP/2 for https://.
		protocols.SetUnencryptedHTTP2(true)
		protocols.SetHTTP2(true)
	} else {
		protocols.SetHTTP1(true)
	}
	transport.Protocols = &protocols
	return &http.Client{Transport: transport}
}
