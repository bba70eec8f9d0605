package observability

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	v1 "github.com/rs3gw/rs3gw-observability/gen/go/rs3gw/observability/v1"
)

// Close right after a cancelled stream closes the client's connection at once (HTTP/2 had kept it,
// and its read goroutine, for the idle timeout of ~90 s), and goroutines return to their number
// before the client.
func TestCloseAfterCancelledStreamClosesConnections(t *testing.T) {
	for _, protocol := range []Protocol{ProtocolGRPC, ProtocolConnect} {
		t.Run(string(protocol), func(t *testing.T) {
			srv := newFakeServer(t, false)
			baseline := runtime.NumGoroutine()
			c, err := New(srv.URL, WithProtocol(protocol))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			stream, err := c.Anomalies.WatchAnomalies(ctx, connect.NewRequest(&v1.WatchAnomaliesRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			if !stream.Receive() {
				t.Fatalf("no caught_up: %v", stream.Err())
			}
			if n := c.conns.count(); n != 1 {
				t.Fatalf("the client tracks %d connections with a stream open, want 1", n)
			}
			cancel()
			for stream.Receive() {
			}
			_ = stream.Close()
			c.Close()
			if n := c.conns.count(); n != 0 {
				t.Errorf("the client tracks %d connections after Close, want 0", n)
			}

			deadline := time.Now().Add(500 * time.Millisecond)
			for {
				open, goroutines := srv.listener.open.Load(), runtime.NumGoroutine()
				if open == 0 && goroutines <= baseline {
					break
				}
				if time.Now().After(deadline) {
					buf := make([]byte, 1<<20)
					t.Fatalf("500 ms after Close: %d connections open (want 0), %d goroutines (want <= %d)\n%s",
						open, goroutines, baseline, buf[:runtime.Stack(buf, true)])
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// After Close, calls fail instead of opening new connections that nothing would close.
func TestCallAfterCloseFails(t *testing.T) {
	srv := newFakeServer(t, false)
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c.Close() // idempotent
	_, err = c.Resources.GetResources(t.Context(), connect.NewRequest(&v1.GetResourcesRequest{}))
	if code := connect.CodeOf(err); code != connect.CodeCanceled || !errors.Is(err, errClientClosed) {
		t.Errorf("GetResources after Close: %v (code %v), want canceled: the client is closed", err, code)
	}
	if n := srv.listener.accepted.Load(); n != 0 {
		t.Errorf("%d connections opened after Close, want 0", n)
	}
}

// recordingTransport counts CloseIdleConnections calls.
type recordingTransport struct {
	http.RoundTripper
	closeIdle atomic.Int64
}

func (r *recordingTransport) CloseIdleConnections() { r.closeIdle.Add(1) }

// Close leaves a user-supplied HTTP client alone: it may be shared (http.DefaultClient is
// process-wide), so its connections are not the client's to close.
func TestCloseLeavesUserHTTPClientAlone(t *testing.T) {
	transport := &recordingTransport{RoundTripper: http.DefaultTransport}
	c, err := New("http://127.0.0.1:9", WithHTTPClient(&http.Client{Transport: transport}))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if n := transport.closeIdle.Load(); n != 0 {
		t.Errorf("Close called the user's transport's CloseIdleConnections %d times, want 0", n)
	}
}

// A stream in flight when the client is closed fails CodeUnavailable, as on a broken connection
// (connect-go alone says CodeInternal, "use of closed network connection").
func TestStreamCutByCloseIsUnavailable(t *testing.T) {
	for _, protocol := range []Protocol{ProtocolGRPC, ProtocolConnect} {
		t.Run(string(protocol), func(t *testing.T) {
			c, stream := fakeLiveStream(t, protocol)
			c.Close()
			for stream.Receive() {
			}
			if code := connect.CodeOf(stream.Err()); code != connect.CodeUnavailable {
				t.Errorf("the stream after Close: %v (code %v), want unavailable", stream.Err(), code)
			}
			_ = stream.Close()
		})
	}
}

// A stream the caller closes itself while another goroutine waits in Receive is not reported as a
// broken connection: a resume loop keyed on CodeUnavailable must not resume it.
func TestStreamClosedByCallerIsNotUnavailable(t *testing.T) {
	for _, protocol := range []Protocol{ProtocolGRPC, ProtocolConnect} {
		t.Run(string(protocol), func(t *testing.T) {
			c, stream := fakeLiveStream(t, protocol)
			defer c.Close()
			ended := make(chan error, 1)
			go func() {
				for stream.Receive() {
				}
				ended <- stream.Err()
			}()
			time.Sleep(50 * time.Millisecond) // the reader waits in Receive
			_ = stream.Close()
			if err := <-ended; connect.CodeOf(err) == connect.CodeUnavailable {
				t.Errorf("a stream its caller closed: %v, want anything but unavailable", err)
			}
		})
	}
}

// fakeLiveStream is a client of a new fake server over protocol, and a WatchAnomalies stream of it
// past its caught_up.
func fakeLiveStream(t *testing.T, protocol Protocol) (*Client, *connect.ServerStreamForClient[v1.WatchAnomaliesResponse]) {
	t.Helper()
	srv := newFakeServer(t, false)
	c, err := New(srv.URL, WithProtocol(protocol))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := c.Anomalies.WatchAnomalies(t.Context(), connect.NewRequest(&v1.WatchAnomaliesRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() {
		t.Fatalf("no caught_up: %v", stream.Err())
	}
	return c, stream
}
