package observability_test

import (
	"context"
	"crypto/tls"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/rs3gw/rs3gw-observability/clients/go/observability"
	v1 "github.com/rs3gw/rs3gw-observability/gen/go/rs3gw/observability/v1"
)

// protocols are the two the client speaks; the tests against the real server run over both.
var protocols = []observability.Protocol{observability.ProtocolGRPC, observability.ProtocolConnect}

// newClient is a client of url over protocol, closed when the (sub)test ends.
func newClient(t *testing.T, url string, protocol observability.Protocol) *observability.Client {
	t.Helper()
	client, err := observability.New(url, observability.WithProtocol(protocol))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// TestAgainstRealServer starts the built server once and calls every service over both protocols.
// The protocols run one after the other on the same server, so each uses its own metric, bucket and
// user names, and checks on shared counters compare before and after.
func TestAgainstRealServer(t *testing.T) {
	srv := startServer(t)
	for _, protocol := range protocols {
		t.Run(string(protocol), func(t *testing.T) {
			client := newClient(t, srv.url, protocol)
			if client.Protocol() != protocol {
				t.Fatalf("Protocol() = %q, want %q", client.Protocol(), protocol)
			}
			suffix := string(protocol)
			t.Run("Profiling", func(t *testing.T) { testProfiling(t, client, srv.pid()) })
			t.Run("Metrics", func(t *testing.T) { testMetrics(t, client, suffix) })
			t.Run("BusinessMetrics", func(t *testing.T) { testBusinessMetrics(t, client, suffix) })
			t.Run("Anomalies", func(t *testing.T) { testAnomalies(t, client, suffix) })
			t.Run("Resources", func(t *testing.T) { testResources(t, client) })
			t.Run("HealthReport", func(t *testing.T) { testHealthReport(t, client, srv.pid(), suffix) })
		})
	}
	srv.stop(t)
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	for url, want := range map[string]string{
		"127.0.0.1:9000":             "scheme",
		"localhost:9000":             "scheme",
		"ftp://127.0.0.1:9000":       "scheme",
		"http://":                    "host",
		"http:///path":               "host",
		"http://:9000":               "host",
		"http://127.0.0.1:9000?x=1":  "query",
		"http://127.0.0.1:9000/?":    "query",
		"http://127.0.0.1:9000#frag": "fragment",
		"http://127.0.0.1:9000/#":    "fragment",
		"http://127.0.0.1:9000/%zz":  "base URL",
		"http://127.0.0.1:99999":     "port",
		"http://127.0.0.1:0":         "port",
	} {
		_, err := observability.New(url)
		if err == nil {
			t.Errorf("New(%q) succeeded, want an error naming the %s", url, want)
		} else if !strings.Contains(err.Error(), want) {
			t.Errorf("New(%q): %v, want an error naming the %s", url, err, want)
		}
	}
	for _, url := range []string{"http://127.0.0.1:9000", "https://observability.example:443/", "http://[::1]:9000/prefix"} {
		client, err := observability.New(url)
		if err != nil {
			t.Errorf("New(%q): %v, want success", url, err)
			continue
		}
		client.Close()
	}
}

func TestNewRejectsNilOption(t *testing.T) {
	// It panicked with a nil pointer dereference.
	_, err := observability.New("http://127.0.0.1:9000", observability.WithProtocol(observability.ProtocolConnect), nil)
	if err == nil || !strings.Contains(err.Error(), "option 1 is nil") {
		t.Fatalf("New with a nil option: %v, want an error naming option 1", err)
	}
}

func TestNewRejectsUnusedTLSConfig(t *testing.T) {
	// Both were accepted, and the calls went out in plaintext (or without the client certificate).
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	cases := map[string]struct {
		url  string
		opts []observability.Option
		want string
	}{
		"http URL":        {"http://127.0.0.1:9000", []observability.Option{observability.WithTLSConfig(tlsConfig)}, "is for https:// URLs"},
		"HTTP URL":        {"HTTP://127.0.0.1:9000", []observability.Option{observability.WithTLSConfig(tlsConfig)}, "is for https:// URLs"},
		"own HTTP client": {"https://127.0.0.1:9000", []observability.Option{observability.WithTLSConfig(tlsConfig), observability.WithHTTPClient(http.DefaultClient)}, "WithHTTPClient replaces it"},
	}
	for name, c := range cases {
		if _, err := observability.New(c.url, c.opts...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v, want an error saying %q", name, err, c.want)
		}
	}
	client, err := observability.New("https://127.0.0.1:9000", observability.WithTLSConfig(tlsConfig))
	if err != nil {
		t.Fatalf("https URL with WithTLSConfig: %v", err)
	}
	client.Close()
}

func TestParseProtocol(t *testing.T) {
	for name, want := range map[string]observability.Protocol{"grpc": observability.ProtocolGRPC, "connect": observability.ProtocolConnect} {
		if got, err := observability.ParseProtocol(name); err != nil || got != want {
			t.Errorf("ParseProtocol(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := observability.ParseProtocol("grpc-web"); err == nil {
		t.Error(`ParseProtocol("grpc-web") succeeded, want an error`)
	}
}

func testProfiling(t *testing.T, c *observability.Client, serverPID int) {
	ctx := callContext(t)
	profile := getProfile(t, ctx, c)
	if int(profile.GetPid()) != serverPID {
		t.Errorf("pid 0 measured pid %d, want the server's pid %d", profile.GetPid(), serverPID)
	}
	rss := profile.GetMemory().GetRssBytes()
	ours, err := procRSS(serverPID)
	if err != nil {
		t.Fatal(err)
	}
	// RSS moves between the two readings; a factor of two still tells a measurement from a made-up value.
	if rss == 0 || rss < ours/2 || rss > ours*2 {
		t.Errorf("rss_bytes = %d, /proc says %d", rss, ours)
	}
	if profile.GetCpu().GetTotalTimeUs() == 0 {
		t.Error("cpu.total_time_us = 0 for a running node process")
	}

	before := profile.GetIo()
	ops := []*v1.IoOperation{
		{Direction: v1.IoDirection_IO_DIRECTION_READ, Bytes: 4096, Latency: durationpb.New(100 * time.Microsecond)},
		{Direction: v1.IoDirection_IO_DIRECTION_READ, Bytes: 4096, Latency: durationpb.New(200 * time.Microsecond)},
		{Direction: v1.IoDirection_IO_DIRECTION_READ, Bytes: 4096, Latency: durationpb.New(300 * time.Microsecond)},
		{Direction: v1.IoDirection_IO_DIRECTION_WRITE, Bytes: 1000, Latency: durationpb.New(time.Millisecond)},
		{Direction: v1.IoDirection_IO_DIRECTION_WRITE, Bytes: 1000, Latency: durationpb.New(time.Millisecond)},
	}
	res, err := c.Profiling.RecordIo(ctx, connect.NewRequest(&v1.RecordIoRequest{Operations: ops}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Msg.GetAccepted() != 5 {
		t.Errorf("RecordIo accepted %d, want 5", res.Msg.GetAccepted())
	}
	after := getProfile(t, ctx, c).GetIo()
	for _, d := range []struct {
		what          string
		before, after uint64
		want          uint64
	}{
		{"read_ops", before.GetReadOps(), after.GetReadOps(), 3},
		{"write_ops", before.GetWriteOps(), after.GetWriteOps(), 2},
		{"read_bytes", before.GetReadBytes(), after.GetReadBytes(), 3 * 4096},
		{"write_bytes", before.GetWriteBytes(), after.GetWriteBytes(), 2000},
	} {
		if d.after-d.before != d.want {
			t.Errorf("%s grew by %d, want %d", d.what, d.after-d.before, d.want)
		}
	}
	// Every run records the same operations, so the means do not depend on earlier runs.
	if math.Abs(after.GetReadLatencyUs()-200) > 1 || math.Abs(after.GetWriteLatencyUs()-1000) > 1 {
		t.Errorf("mean latencies read %.1f us, write %.1f us; want 200 and 1000", after.GetReadLatencyUs(), after.GetWriteLatencyUs())
	}

	snapshots, err := c.Profiling.ListSnapshots(ctx, connect.NewRequest(&v1.ListSnapshotsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshots.Msg.GetInterval().AsDuration(); got != time.Second {
		t.Errorf("snapshot interval %v, want the 1 s of RS3GW_PROFILING_INTERVAL", got)
	}

	_, err = c.Profiling.RecordIo(ctx, connect.NewRequest(&v1.RecordIoRequest{Operations: []*v1.IoOperation{{Bytes: 1}}}))
	requireError(t, err, connect.CodeInvalidArgument, "direction")
}

func getProfile(t *testing.T, ctx context.Context, c *observability.Client) *v1.ProcessProfile {
	t.Helper()
	res, err := c.Profiling.GetProfile(ctx, connect.NewRequest(&v1.GetProfileRequest{Pid: 0}))
	if err != nil {
		t.Fatal(err)
	}
	return res.Msg.GetProfile()
}

func testMetrics(t *testing.T, c *observability.Client, suffix string) {
	ctx := callContext(t)
	// Counter names end in _total, as the server names every counter.
	name := "go_client_" + suffix + "_requests_total"
	register := &v1.RegisterMetricRequest{
		Name:        name,
		Type:        v1.MetricType_METRIC_TYPE_COUNTER,
		Description: "Requests seen by the Go client test",
		LabelNames:  []string{"bucket"},
	}
	for i, wantCreated := range []bool{true, false} {
		res, err := c.Metrics.RegisterMetric(ctx, connect.NewRequest(register))
		if err != nil {
			t.Fatal(err)
		}
		if res.Msg.GetCreated() != wantCreated {
			t.Errorf("registration %d: created = %t, want %t", i+1, res.Msg.GetCreated(), wantCreated)
		}
	}

	for _, r := range []struct {
		bucket string
		value  float64
	}{{"a", 3}, {"b", 7}, {"a", 2}} {
		_, err := c.Metrics.RecordMetric(ctx, connect.NewRequest(&v1.RecordMetricRequest{
			Name: name, Value: r.value, Labels: map[string]string{"bucket": r.bucket},
		}))
		if err != nil {
			t.Fatal(err)
		}
	}

	got, err := c.Metrics.GetMetric(ctx, connect.NewRequest(&v1.GetMetricRequest{Name: name}))
	if err != nil {
		t.Fatal(err)
	}
	if values := seriesValues(got.Msg.GetSeries()); len(values) != 2 || values["a"] != 5 || values["b"] != 7 {
		t.Errorf("series by bucket = %v, want a=5 b=7", values)
	}
	if got.Msg.GetMetric().GetType() != v1.MetricType_METRIC_TYPE_COUNTER || got.Msg.GetMetric().GetSeriesCount() != 2 {
		t.Errorf("descriptor = %v, want a counter with 2 series", got.Msg.GetMetric())
	}
	filtered, err := c.Metrics.GetMetric(ctx, connect.NewRequest(&v1.GetMetricRequest{Name: name, Labels: map[string]string{"bucket": "b"}}))
	if err != nil {
		t.Fatal(err)
	}
	if values := seriesValues(filtered.Msg.GetSeries()); len(values) != 1 || values["b"] != 7 {
		t.Errorf("series with bucket=b = %v, want b=7 only", values)
	}

	export, err := c.Metrics.ExportMetrics(ctx, connect.NewRequest(&v1.ExportMetricsRequest{Format: v1.ExportFormat_EXPORT_FORMAT_JSON}))
	if err != nil {
		t.Fatal(err)
	}
	exported := export.Msg.GetMetrics()[name]
	if exported.GetType() != v1.MetricType_METRIC_TYPE_COUNTER || exported.GetValue() != 12 || len(exported.GetSeries()) != 2 {
		t.Errorf("JSON export of %s = %v, want a counter worth 12 in 2 series", name, exported)
	}
	prom, err := c.Metrics.ExportMetrics(ctx, connect.NewRequest(&v1.ExportMetricsRequest{Format: v1.ExportFormat_EXPORT_FORMAT_PROMETHEUS}))
	if err != nil {
		t.Fatal(err)
	}
	text := string(prom.Msg.GetPrometheus().GetData())
	for _, line := range []string{name + `{bucket="a"} 5`, name + `{bucket="b"} 7`} {
		if !containsLine(text, line) {
			t.Errorf("Prometheus export lacks the line %q", line)
		}
	}

	_, err = c.Metrics.RecordMetric(ctx, connect.NewRequest(&v1.RecordMetricRequest{
		Name: name, Value: math.NaN(), Labels: map[string]string{"bucket": "a"},
	}))
	requireError(t, err, connect.CodeInvalidArgument, "value")
	_, err = c.Metrics.GetMetric(ctx, connect.NewRequest(&v1.GetMetricRequest{Name: "go_client_no_such_metric"}))
	requireError(t, err, connect.CodeNotFound, "name")
}

func seriesValues(series []*v1.MetricSeries) map[string]float64 {
	values := make(map[string]float64, len(series))
	for _, s := range series {
		values[s.GetLabels()["bucket"]] = s.GetValue()
	}
	return values
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func testBusinessMetrics(t *testing.T, c *observability.Client, suffix string) {
	ctx := callContext(t)
	bucket, user := "go-client-"+suffix, "go-client-user-"+suffix
	before := businessReport(t, ctx, c)

	events := []*v1.RequestEvent{
		{Operation: v1.S3Operation_S3_OPERATION_PUT_OBJECT, Bucket: bucket, User: user, StatusCode: 200, BytesIn: 1000, Latency: durationpb.New(10 * time.Millisecond)},
		{Operation: v1.S3Operation_S3_OPERATION_GET_OBJECT, Bucket: bucket, User: user, StatusCode: 200, BytesOut: 500, Latency: durationpb.New(2 * time.Millisecond)},
		{Operation: v1.S3Operation_S3_OPERATION_GET_OBJECT, Bucket: bucket, User: user, StatusCode: 404, Latency: durationpb.New(time.Millisecond)},
	}
	res, err := c.Metrics.IngestRequestEvents(ctx, connect.NewRequest(&v1.IngestRequestEventsRequest{Events: events}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Msg.GetAccepted() != 3 {
		t.Errorf("accepted %d events, want 3", res.Msg.GetAccepted())
	}

	after := businessReport(t, ctx, c)
	bp, ap := before.GetRequestPatterns(), after.GetRequestPatterns()
	for _, d := range []struct {
		what          string
		before, after uint64
		want          uint64
	}{
		{"total_requests", bp.GetTotalRequests(), ap.GetTotalRequests(), 3},
		{"requests_by_operation[put_object]", bp.GetRequestsByOperation()["put_object"], ap.GetRequestsByOperation()["put_object"], 1},
		{"requests_by_operation[get_object]", bp.GetRequestsByOperation()["get_object"], ap.GetRequestsByOperation()["get_object"], 2},
		{"requests_by_bucket[" + bucket + "]", bp.GetRequestsByBucket()[bucket], ap.GetRequestsByBucket()[bucket], 3},
		{"total_uploaded_bytes", before.GetDataTransfer().GetTotalUploadedBytes(), after.GetDataTransfer().GetTotalUploadedBytes(), 1000},
		{"total_downloaded_bytes", before.GetDataTransfer().GetTotalDownloadedBytes(), after.GetDataTransfer().GetTotalDownloadedBytes(), 500},
		{"storage objects", before.GetStorageUtilization().GetObjects(), after.GetStorageUtilization().GetObjects(), 1},
		{"storage total_bytes", before.GetStorageUtilization().GetTotalBytes(), after.GetStorageUtilization().GetTotalBytes(), 1000},
	} {
		if d.after-d.before != d.want {
			t.Errorf("%s grew by %d, want %d", d.what, d.after-d.before, d.want)
		}
	}
	var usage *v1.UserUsage
	for _, u := range after.GetUserActivity().GetTopUsers() {
		if u.GetUser() == user {
			usage = u
		}
	}
	if usage.GetRequests() != 3 || usage.GetBytesIn() != 1000 || usage.GetBytesOut() != 500 {
		t.Errorf("top user %s = %v, want 3 requests, 1000 bytes in, 500 out", user, usage)
	}

	// A batch with one bad event ingests nothing.
	bad := []*v1.RequestEvent{events[0], {Bucket: bucket, User: user, StatusCode: 200}}
	_, err = c.Metrics.IngestRequestEvents(ctx, connect.NewRequest(&v1.IngestRequestEventsRequest{Events: bad}))
	requireError(t, err, connect.CodeInvalidArgument, "operation")
	if got := businessReport(t, ctx, c).GetRequestPatterns().GetTotalRequests(); got != ap.GetTotalRequests() {
		t.Errorf("a rejected batch changed total_requests from %d to %d", ap.GetTotalRequests(), got)
	}
}

func businessReport(t *testing.T, ctx context.Context, c *observability.Client) *v1.BusinessMetricsReport {
	t.Helper()
	res, err := c.Metrics.GetBusinessMetrics(ctx, connect.NewRequest(&v1.GetBusinessMetricsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	return res.Msg.GetReport()
}

func testAnomalies(t *testing.T, c *observability.Client, suffix string) {
	ctx := callContext(t)
	metric := "go_client_latency_ms_" + suffix

	// By default an alarm mutes the metric for 100 samples, so a chance alarm late in the warm-up
	// would hide the spike; with no rest every sample is judged.
	configured, err := c.Anomalies.ConfigureMetric(ctx, connect.NewRequest(&v1.ConfigureMetricRequest{
		Metric: metric, Config: &v1.MetricDetectionConfig{RestSamples: proto.Uint32(0)},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := configured.Msg.GetConfig(); cfg.GetRestSamples() != 0 || cfg.GetAnomalyType() != v1.AnomalyType_ANOMALY_TYPE_LATENCY_SPIKE {
		t.Errorf("configuration now %v, want rest_samples 0 and the type inferred from the name", cfg)
	}

	events, stop := watch(t, ctx, c, &v1.WatchAnomaliesRequest{Metric: metric})
	defer stop()
	first := nextEvent(t, ctx, events)
	if first.GetCaughtUp() == nil {
		t.Fatalf("first stream message = %v, want caught_up", first)
	}
	liveAfter := first.GetCaughtUp().GetLastSequence()

	// 300 values spread evenly over 95..105, one a second up to now, then one 50x larger.
	const steady = 300
	noise := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-steady * time.Second)
	samples := make([]*v1.Sample, 0, steady+1)
	for i := range steady {
		samples = append(samples, &v1.Sample{
			Metric: metric, Value: 95 + 10*noise.Float64(), Time: timestamppb.New(start.Add(time.Duration(i) * time.Second)),
		})
	}
	samples = append(samples, &v1.Sample{Metric: metric, Value: 5000, Time: timestamppb.Now()})
	res, err := c.Anomalies.RecordSamples(ctx, connect.NewRequest(&v1.RecordSamplesRequest{Samples: samples}))
	if err != nil {
		t.Fatal(err)
	}
	assessments := res.Msg.GetAssessments()
	if len(assessments) != len(samples) {
		t.Fatalf("%d assessments for %d samples", len(assessments), len(samples))
	}
	spike := assessments[steady].GetAnomaly()
	if spike == nil {
		t.Fatalf("the spike raised no anomaly: %v", assessments[steady])
	}
	if spike.GetSequence() <= liveAfter || spike.GetMetricName() != metric || spike.GetCurrentValue() != 5000 ||
		spike.GetDirection() != v1.AnomalyDirection_ANOMALY_DIRECTION_ABOVE ||
		spike.GetSeverity() != v1.AnomalySeverity_ANOMALY_SEVERITY_CRITICAL ||
		spike.GetAnomalyType() != v1.AnomalyType_ANOMALY_TYPE_LATENCY_SPIKE {
		t.Errorf("spike anomaly = %v, want a new critical latency spike above, value 5000, of %s", spike, metric)
	}

	// The live stream delivers it, the same as RecordSamples reported it.
	for {
		event := nextEvent(t, ctx, events)
		if a := event.GetAnomaly(); a != nil && a.GetSequence() == spike.GetSequence() {
			if !proto.Equal(a, spike) {
				t.Errorf("streamed anomaly %v differs from the recorded one %v", a, spike)
			}
			break
		}
	}

	list, err := c.Anomalies.ListAnomalies(ctx, connect.NewRequest(&v1.ListAnomaliesRequest{Metric: metric}))
	if err != nil {
		t.Fatal(err)
	}
	if anomalies := list.Msg.GetAnomalies(); len(anomalies) == 0 || !proto.Equal(anomalies[0], spike) {
		t.Errorf("ListAnomalies(%s) newest = %v, want the spike", metric, anomalies)
	}
	if list.Msg.GetLastSequence() < spike.GetSequence() {
		t.Errorf("last_sequence %d is before the spike's %d", list.Msg.GetLastSequence(), spike.GetSequence())
	}

	// A subscriber that resumes from before the spike gets it replayed, then goes live.
	replay, stopReplay := watch(t, ctx, c, &v1.WatchAnomaliesRequest{Metric: metric, ResumeAfterSequence: proto.Uint64(liveAfter)})
	defer stopReplay()
	replayed := false
	for {
		event := nextEvent(t, ctx, replay)
		if a := event.GetAnomaly(); a != nil {
			replayed = replayed || proto.Equal(a, spike)
			continue
		}
		caughtUp := event.GetCaughtUp()
		if !replayed || caughtUp.GetLastSequence() < spike.GetSequence() {
			t.Errorf("resumed stream went on with %v before replaying the spike #%d", event, spike.GetSequence())
		}
		break
	}

	_, err = c.Anomalies.RecordSample(ctx, connect.NewRequest(&v1.RecordSampleRequest{Metric: metric, Value: math.NaN()}))
	requireError(t, err, connect.CodeInvalidArgument, "value")
}

// watch opens WatchAnomalies and forwards its messages to a channel, which is closed when the
// stream ends. stop ends the stream and waits for that.
func watch(t *testing.T, ctx context.Context, c *observability.Client, req *v1.WatchAnomaliesRequest) (<-chan *v1.WatchAnomaliesResponse, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.Anomalies.WatchAnomalies(ctx, connect.NewRequest(req))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	events := make(chan *v1.WatchAnomaliesResponse, 64)
	go func() {
		defer close(events)
		defer stream.Close()
		for stream.Receive() {
			select {
			case events <- stream.Msg():
			case <-ctx.Done():
				return
			}
		}
		if err := stream.Err(); err != nil && ctx.Err() == nil {
			t.Errorf("anomaly stream ended: %v", err)
		}
	}()
	return events, func() {
		cancel()
		for range events {
		}
	}
}

func nextEvent(t *testing.T, ctx context.Context, events <-chan *v1.WatchAnomaliesResponse) *v1.WatchAnomaliesResponse {
	t.Helper()
	select {
	case event, ok := <-events:
		if !ok {
			t.Fatal("the anomaly stream ended early")
		}
		return event
	case <-ctx.Done():
		t.Fatalf("no stream message: %v", ctx.Err())
	}
	return nil
}

func testResources(t *testing.T, c *observability.Client) {
	ctx := callContext(t)
	before := resourceStatus(t, ctx, c)
	// The server sheds on the host's pressure, and the machine running the tests is shared: it
	// sheds only at full saturation here (RS3GW_LOAD_SHEDDING_THRESHOLD=1, RS3GW_PSI_THRESHOLD=99),
	// critical work last, and
	// may still shed for a moment after start-up or under a neighbour's burst.
	var acquired *connect.Response[v1.AcquireResponse]
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var err error
		acquired, err = c.Resources.Acquire(ctx, connect.NewRequest(&v1.AcquireRequest{Priority: v1.Priority_PRIORITY_CRITICAL}))
		if err != nil {
			t.Fatal(err)
		}
		if acquired.Msg.GetAdmitted() || time.Now().After(deadline) {
			break
		}
	}
	if !acquired.Msg.GetAdmitted() || acquired.Msg.GetPermitId() == "" {
		t.Fatalf("Acquire of critical work for 10 s = %v, want a permit", acquired.Msg)
	}
	holding := resourceStatus(t, ctx, c)
	if holding.GetAdmission().GetAdmittedTotal() <= before.GetAdmission().GetAdmittedTotal() {
		t.Errorf("admitted_total %d did not grow from %d", holding.GetAdmission().GetAdmittedTotal(), before.GetAdmission().GetAdmittedTotal())
	}

	release := &v1.ReleaseRequest{
		PermitId: acquired.Msg.GetPermitId(), Outcome: v1.RequestOutcome_REQUEST_OUTCOME_SUCCESS, Latency: durationpb.New(5 * time.Millisecond),
	}
	if _, err := c.Resources.Release(ctx, connect.NewRequest(release)); err != nil {
		t.Fatal(err)
	}
	released := resourceStatus(t, ctx, c)
	if holding.GetActiveRequests()-released.GetActiveRequests() != 1 {
		t.Errorf("active_requests went from %d to %d on release, want one fewer", holding.GetActiveRequests(), released.GetActiveRequests())
	}
	if released.GetWindowCompletions() <= holding.GetWindowCompletions() {
		t.Errorf("window_completions %d did not grow from %d", released.GetWindowCompletions(), holding.GetWindowCompletions())
	}
	if released.GetPool().GetRecommendedThreads() == 0 {
		t.Error("no worker-pool recommendation")
	}

	_, err := c.Resources.Release(ctx, connect.NewRequest(release))
	requireError(t, err, connect.CodeNotFound, "permit_id")
}

func resourceStatus(t *testing.T, ctx context.Context, c *observability.Client) *v1.ResourceStatus {
	t.Helper()
	res, err := c.Resources.GetResources(ctx, connect.NewRequest(&v1.GetResourcesRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	return res.Msg.GetStatus()
}

func testHealthReport(t *testing.T, c *observability.Client, serverPID int, suffix string) {
	ctx := callContext(t)
	res, err := c.Health.GetHealthReport(ctx, connect.NewRequest(&v1.GetHealthReportRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	report := res.Msg
	if report.GetStatus() == v1.HealthStatus_HEALTH_STATUS_UNSPECIFIED {
		t.Error("health status unspecified")
	}
	if report.GetStatus() != v1.HealthStatus_HEALTH_STATUS_HEALTHY && len(report.GetReasons()) == 0 {
		t.Errorf("status %v without reasons", report.GetStatus())
	}
	if int(report.GetProfiling().GetPid()) != serverPID || report.GetProfiling().GetMemory().GetRssBytes() == 0 {
		t.Errorf("profiling section = %v, want the server's measured memory", report.GetProfiling())
	}
	if report.GetBusinessMetrics().GetRequestPatterns().GetTotalRequests() < 3 {
		t.Errorf("business section counts %d requests, want the ingested ones", report.GetBusinessMetrics().GetRequestPatterns().GetTotalRequests())
	}
	found := false
	for _, a := range report.GetAnomalies().GetRecent() {
		found = found || a.GetMetricName() == "go_client_latency_ms_"+suffix
	}
	if !found || report.GetAnomalies().GetTotalDetected() == 0 {
		t.Errorf("anomaly section = %v, want the recent spike", report.GetAnomalies())
	}
	if report.GetResources().GetAdmission() == nil {
		t.Error("resource section has no admission state")
	}
}

// callContext bounds each group of calls so that a stuck server fails the test instead of hanging it.
func callContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// requireError checks an error's code and that its message names the field the caller got wrong.
func requireError(t *testing.T, err error, code connect.Code, field string) {
	t.Helper()
	if err == nil {
		t.Errorf("succeeded, want %v naming %q", code, field)
		return
	}
	if connect.CodeOf(err) != code || !strings.Contains(err.Error(), field) {
		t.Errorf("error %v, want code %v naming %q", err, code, field)
	}
}
