package observability_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/rs3gw/rs3gw-observability/clients/go/observability"
	v1 "github.com/rs3gw/rs3gw-observability/gen/go/rs3gw/observability/v1"
)

// A WatchAnomalies stream over gRPC whose reader stops reading is given up by the server after
// RS3GW_SEND_TIMEOUT, its HTTP/2 stream reset with CANCEL. The caller cancelled nothing, so the
// client reports CodeUnavailable, as for any broken call, not CodeCanceled (connect-go's reading
// of a reset from the peer), and a resume loop keyed on unavailable resumes.
func TestServerGivingUpAnUnreadStreamIsUnavailable(t *testing.T) {
	srv := startServer(t, "RS3GW_SEND_TIMEOUT=1")
	defer srv.stop(t)
	// A 64 KiB stream window: the server's bytes wait on the client's window after a few hundred
	// anomalies, not after the 4 MiB net/http grants by default.
	transport := &http.Transport{HTTP2: &http.HTTP2Config{MaxReceiveBufferPerStream: 64 << 10, MaxReceiveBufferPerConnection: 64 << 10}}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	transport.Protocols = &protocols
	client, err := observability.New(srv.url, observability.WithProtocol(observability.ProtocolGRPC), observability.WithHTTPClient(&http.Client{Transport: transport}))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := callContext(t)
	stream := liveStream(t, ctx, client)
	defer stream.Close()

	// Each metric is flat through its warm-up, then moves once: one anomaly per metric.
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var samples []*v1.Sample
	for m := range 1000 {
		metric := fmt.Sprintf("unread_stream_%04d_with_a_long_name_so_that_each_anomaly_takes_room", m)
		for i := range 102 {
			value := 0.0
			if i == 101 {
				value = 1
			}
			samples = append(samples, &v1.Sample{Metric: metric, Value: value, Time: timestamppb.New(start.Add(time.Duration(i) * time.Minute))})
		}
		if len(samples) >= 5000 || m == 999 {
			if _, err := client.Anomalies.RecordSamples(ctx, connect.NewRequest(&v1.RecordSamplesRequest{Samples: samples})); err != nil {
				t.Fatal(err)
			}
			samples = nil
		}
	}
	time.Sleep(3 * time.Second) // the send timeout, and a margin

	received := 0
	for stream.Receive() {
		received++
	}
	if code := connect.CodeOf(stream.Err()); code != connect.CodeUnavailable {
		t.Fatalf("after %d messages read late: %v (code %v), want unavailable", received, stream.Err(), code)
	}
	if received >= 1000 {
		t.Fatalf("all %d anomalies arrived: the server did not give the stream up", received)
	}
}
