// Command example shows the Go client at work: it watches anomalies of a metric, records a steady
// series and then a spike so that one fires, and prints business metrics and resources.
//
//	go run ./cmd/example -addr http://127.0.0.1:9000 -protocol connect
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/rs3gw/rs3gw-observability/clients/go/observability"
	v1 "github.com/rs3gw/rs3gw-observability/gen/go/rs3gw/observability/v1"
)

func main() {
	addr := flag.String("addr", "http://127.0.0.1:9000", "server base URL")
	protocolName := flag.String("protocol", "grpc", "grpc (HTTP/2 cleartext) or connect (HTTP/1.1)")
	metric := flag.String("metric", "example_latency_ms", "metric to record samples for")
	flag.Parse()

	protocol, err := observability.ParseProtocol(*protocolName)
	if err != nil {
		log.Fatal(err)
	}
	client, err := observability.New(*addr, observability.WithProtocol(protocol))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// An alarm normally mutes its metric for 100 samples; judge every sample so that a chance alarm
	// during the warm-up cannot mute the spike.
	_, err = client.Anomalies.ConfigureMetric(ctx, connect.NewRequest(&v1.ConfigureMetricRequest{
		Metric: *metric, Config: &v1.MetricDetectionConfig{RestSamples: proto.Uint32(0)},
	}))
	if err != nil {
		log.Fatal("configure metric: ", err)
	}

	// Watch first, so the anomaly we are about to cause is delivered live.
	caughtUp := make(chan struct{})
	anomalies := make(chan uint64, 16)
	go watchAnomalies(ctx, client, *metric, caughtUp, anomalies)
	select {
	case <-caughtUp:
	case <-ctx.Done():
		log.Fatal("the anomaly stream did not start: ", ctx.Err())
	}

	spike, err := recordSteadyThenSpike(ctx, client, *metric)
	if err != nil {
		log.Fatal("record samples: ", err)
	}
	for seq := uint64(0); seq != spike; {
		select {
		case seq = <-anomalies:
		case <-ctx.Done():
			log.Fatal("the spike's anomaly did not arrive: ", ctx.Err())
		}
	}

	if err := printBusinessMetrics(ctx, client); err != nil {
		log.Fatal("business metrics: ", err)
	}
	if err := printResources(ctx, client); err != nil {
		log.Fatal("resources: ", err)
	}
}

// watchAnomalies prints the stream's events; it closes caughtUp when the stream is live and sends
// the sequence number of each anomaly it prints.
func watchAnomalies(ctx context.Context, client *observability.Client, metric string, caughtUp chan<- struct{}, anomalies chan<- uint64) {
	stream, err := client.Anomalies.WatchAnomalies(ctx, connect.NewRequest(&v1.WatchAnomaliesRequest{Metric: metric}))
	if err != nil {
		log.Fatal("watch anomalies: ", err)
	}
	defer stream.Close()
	for stream.Receive() {
		switch event := stream.Msg().GetEvent().(type) {
		case *v1.WatchAnomaliesResponse_CaughtUp:
			fmt.Printf("watching %s (live after sequence %d)\n", metric, event.CaughtUp.GetLastSequence())
			close(caughtUp)
		case *v1.WatchAnomaliesResponse_Missed:
			fmt.Printf("missed %d anomalies: %s\n", event.Missed.GetCount(), event.Missed.GetReason())
		case *v1.WatchAnomaliesResponse_Anomaly:
			a := event.Anomaly
			fmt.Printf("anomaly #%d %s: value %.1f, expected %.1f (%.1f sigma, %s, %s)\n",
				a.GetSequence(), a.GetMetricName(), a.GetCurrentValue(), a.GetExpectedValue(),
				a.GetDeviationSigma(), a.GetSeverity(), a.GetAnomalyType())
			select {
			case anomalies <- a.GetSequence():
			case <-ctx.Done():
				return
			}
		}
	}
	// The stream ends when main cancels ctx on its way out; anything else is worth reporting.
	if err := stream.Err(); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		log.Print("anomaly stream: ", err)
	}
}

// recordSteadyThenSpike sends 300 samples around 100 (one a second, ending now), then one 50x
// larger, and returns the sequence number of the anomaly the spike raised.
func recordSteadyThenSpike(ctx context.Context, client *observability.Client, metric string) (uint64, error) {
	const steady = 300
	start := time.Now().Add(-steady * time.Second)
	samples := make([]*v1.Sample, 0, steady+1)
	for i := range steady {
		samples = append(samples, &v1.Sample{
			Metric: metric,
			Value:  95 + 10*rand.Float64(),
			Time:   timestamppb.New(start.Add(time.Duration(i) * time.Second)),
		})
	}
	samples = append(samples, &v1.Sample{Metric: metric, Value: 5000, Time: timestamppb.Now()})

	res, err := client.Anomalies.RecordSamples(ctx, connect.NewRequest(&v1.RecordSamplesRequest{Samples: samples}))
	if err != nil {
		return 0, err
	}
	last := res.Msg.GetAssessments()[steady]
	fmt.Printf("recorded %d samples; the spike scored %.2f (expected %.1f)\n",
		len(res.Msg.GetAssessments()), last.GetScore(), last.GetExpectedValue())
	if last.GetAnomaly() == nil {
		return 0, errors.New("the spike raised no anomaly")
	}
	return last.GetAnomaly().GetSequence(), nil
}

func printBusinessMetrics(ctx context.Context, client *observability.Client) error {
	events := []*v1.RequestEvent{
		{Operation: v1.S3Operation_S3_OPERATION_PUT_OBJECT, Bucket: "photos", User: "alice", StatusCode: 200, BytesIn: 4096, Latency: durationpb.New(12 * time.Millisecond)},
		{Operation: v1.S3Operation_S3_OPERATION_GET_OBJECT, Bucket: "photos", User: "bob", StatusCode: 200, BytesOut: 4096, Latency: durationpb.New(3 * time.Millisecond)},
		{Operation: v1.S3Operation_S3_OPERATION_GET_OBJECT, Bucket: "photos", User: "bob", StatusCode: 404, Latency: durationpb.New(1 * time.Millisecond)},
	}
	if _, err := client.Metrics.IngestRequestEvents(ctx, connect.NewRequest(&v1.IngestRequestEventsRequest{Events: events})); err != nil {
		return err
	}
	res, err := client.Metrics.GetBusinessMetrics(ctx, connect.NewRequest(&v1.GetBusinessMetricsRequest{}))
	if err != nil {
		return err
	}
	r := res.Msg.GetReport()
	// Optional: nil when the window holds no request (no data, not 0 ms).
	p99 := "none in the window"
	if p := r.GetRequestPatterns().P99LatencyMs; p != nil {
		p99 = fmt.Sprintf("%.1f ms", *p)
	}
	fmt.Printf("business: %d requests, error rate %.2f, p99 %s, %d objects / %d bytes stored, $%.6f\n",
		r.GetRequestPatterns().GetTotalRequests(), r.GetRequestPatterns().GetErrorRate(),
		p99, r.GetStorageUtilization().GetObjects(),
		r.GetStorageUtilization().GetTotalBytes(), r.GetCostEstimate().GetTotalUsd())
	return nil
}

func printResources(ctx context.Context, client *observability.Client) error {
	res, err := client.Resources.GetResources(ctx, connect.NewRequest(&v1.GetResourcesRequest{}))
	if err != nil {
		return err
	}
	s := res.Msg.GetStatus()
	fmt.Printf("resources: cpu %.0f%%, memory %.0f%%, %d active, admission limit %.0f, shedding %t, pool advice %d threads\n",
		100*s.GetCpuUsage(), 100*s.GetMemoryUsage(), s.GetActiveRequests(), s.GetAdmission().GetLimit(),
		s.GetShouldShedLoad(), s.GetPool().GetRecommendedThreads())
	return nil
}
