/**
 * Example: record a latency series, watch for anomalies, and trigger one with a spike. Exits 1 if
 * the spike raises no anomaly or the stream does not deliver it, as the Go example does.
 *   npm run build && node dist/clients/ts/example.js http://127.0.0.1:9000 [grpc|connect|grpc-web]
 */
import { AnomalySeverity, AnomalyType } from '../../gen/ts/rs3gw/observability/v1/anomaly_pb.js';
import { createObservabilityClient, type Protocol } from './client.js';

const baseUrl = process.argv[2] ?? 'http://127.0.0.1:9000';
const protocol = (process.argv[3] ?? 'grpc') as Protocol;
if (!['grpc', 'connect', 'grpc-web'].includes(protocol)) {
  console.error(`unknown protocol "${protocol}" (want "grpc", "connect" or "grpc-web")`);
  process.exit(2);
}
const client = createObservabilityClient(baseUrl, { protocol });
const metric = `example_latency_ms_${process.pid}`;

// An alarm normally mutes its metric for 100 samples; judge every sample so that a chance alarm
// during the warm-up cannot mute the spike.
await client.anomalies.configureMetric({ metric, config: { restSamples: 0 } });

// Watch first, so the anomaly we are about to cause is delivered live.
const watching = new AbortController();
const delivered = new Set<bigint>();
let onAnomaly = (): void => {};
const live = new Promise<void>((ready, failed) => {
  (async () => {
    const stream = client.anomalies.watchAnomalies({ metric }, { signal: watching.signal });
    for await (const message of stream) {
      if (message.event.case === 'caughtUp') ready();
      if (message.event.case === 'anomaly') {
        const a = message.event.value;
        console.log(
          `anomaly #${a.sequence}: ${a.metricName}=${a.currentValue} expected ${a.expectedValue.toFixed(1)} ` +
            `(${AnomalyType[a.anomalyType]}, ${AnomalySeverity[a.severity]}, ${a.deviationSigma.toFixed(1)} sigma)`,
        );
        delivered.add(a.sequence);
        onAnomaly();
      }
    }
  })().catch((error: unknown) => (watching.signal.aborted ? undefined : failed(error)));
});
await live;

// A steady latency around 20 ms, then one request that took 900 ms.
const samples = Array.from({ length: 300 }, (_, i) => ({ metric, value: 20 + Math.sin(i) * 2 + Math.random() }));
await client.anomalies.recordSamples({ samples });
const { assessment } = await client.anomalies.recordSample({ metric, value: 900 });
const spike = assessment?.anomaly?.sequence;
console.log(`spike scored ${assessment?.score.toFixed(3)}; anomaly raised: ${spike !== undefined}`);
const arrived =
  spike !== undefined &&
  (delivered.has(spike) ||
    (await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      onAnomaly = () => {
        if (!delivered.has(spike)) return;
        clearTimeout(timer);
        resolve(true);
      };
    })));
watching.abort();
// The metric is this run's own (its pid in the name): delete it, so runs do not pile up metrics
// against RS3GW_ANOMALY_MAX_METRICS.
await client.anomalies.resetMetric({ metric, delete: true });
client.close();
if (!arrived) {
  console.error(spike === undefined ? 'the spike raised no anomaly' : `the spike's anomaly #${spike} did not arrive on the stream within 10 s`);
  process.exit(1);
}
