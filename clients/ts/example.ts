/**
 * Example: record a latency series, watch for anomalies, and trigger one with a spike.
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

const watching = new AbortController();
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
        watching.abort();
      }
    }
  })().catch((error: unknown) => (watching.signal.aborted ? undefined : failed(error)));
});
await live;

// A steady latency around 20 ms, then one request that took 900 ms.
const samples = Array.from({ length: 300 }, (_, i) => ({ metric, value: 20 + Math.sin(i) * 2 + Math.random() }));
await client.anomalies.recordSamples({ samples });
const { assessment } = await client.anomalies.recordSample({ metric, value: 900 });
console.log(`spike scored ${assessment?.score.toFixed(3)}; anomaly raised: ${assessment?.anomaly !== undefined}`);
await new Promise((resolve) => setTimeout(resolve, 500));
watching.abort();
