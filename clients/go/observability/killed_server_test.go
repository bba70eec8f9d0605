package observability_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/rs3gw/rs3gw-observability/clients/go/observability"
	v1 "github.com/rs3gw/rs3gw-observability/gen/go/rs3gw/observability/v1"
)

// A server SIGKILLed mid-call fails a live WatchAnomalies stream and an in-flight CaptureProfile
// with CodeUnavailable (connect-go alone says CodeInternal, "incomplete envelope: unexpected EOF").
func TestServerKilledMidCallIsUnavailable(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(string(protocol), func(t *testing.T) {
			srv := startServer(t)
			client := newClient(t, srv.url, protocol)
			ctx := callContext(t)
			stream := liveStream(t, ctx, client)
			defer stream.Close()
			captured := make(chan error, 1)
			go func() {
				_, err := client.Profiling.CaptureProfile(ctx, connect.NewRequest(&v1.CaptureProfileRequest{Duration: durationpb.New(10 * time.Second)}))
				captured <- err
			}()
			time.Sleep(700 * time.Millisecond) // the capture reaches the server

			if err := srv.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-srv.exited

			for stream.Receive() {
			}
			requireUnavailable(t, "WatchAnomalies", stream.Err())
			requireUnavailable(t, "CaptureProfile", <-captured)
		})
	}
}

// A call the caller cancels still fails with CodeCanceled.
func TestCallerCancelIsCanceled(t *testing.T) {
	srv := startServer(t)
	for _, protocol := range protocols {
		t.Run(string(protocol), func(t *testing.T) {
			client := newClient(t, srv.url, protocol)
			ctx, cancel := context.WithCancel(callContext(t))
			stream := liveStream(t, ctx, client)
			defer stream.Close()
			cancel()
			for stream.Receive() {
			}
			if code := connect.CodeOf(stream.Err()); code != connect.CodeCanceled {
				t.Errorf("WatchAnomalies cancelled by the caller: %v (code %v), want canceled", stream.Err(), code)
			}

			ctx, cancel = context.WithCancel(callContext(t))
			time.AfterFunc(500*time.Millisecond, cancel)
			_, err := client.Profiling.CaptureProfile(ctx, connect.NewRequest(&v1.CaptureProfileRequest{Duration: durationpb.New(10 * time.Second)}))
			if code := connect.CodeOf(err); code != connect.CodeCanceled {
				t.Errorf("CaptureProfile cancelled by the caller: %v (code %v), want canceled", err, code)
			}
		})
	}
	srv.stop(t)
}

// liveStream opens WatchAnomalies and reads up to its caught_up, so that the stream is live on
// the server.
func liveStream(t *testing.T, ctx context.Context, c *observability.Client) *connect.ServerStreamForClient[v1.WatchAnomaliesResponse] {
	t.Helper()
	stream, err := c.Anomalies.WatchAnomalies(ctx, connect.NewRequest(&v1.WatchAnomaliesRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	for stream.Msg().GetCaughtUp() == nil {
		if !stream.Receive() {
			t.Fatalf("WatchAnomalies ended before caught_up: %v", stream.Err())
		}
	}
	return stream
}

func requireUnavailable(t *testing.T, call string, err error) {
	t.Helper()
	if code := connect.CodeOf(err); code != connect.CodeUnavailable {
		t.Errorf("%s after the server was killed: %v (code %v), want unavailable", call, err, code)
		return
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("%s: %v does not keep the original error (io.ErrUnexpectedEOF) in its chain", call, err)
	}
	t.Logf("%s: %v", call, err)
}
