/**
 * Run as its own process by grpc-limits.test.ts: the TS client over gRPC sends one request of
 * argv[3] bytes (over the server's cap), then one under the cap on the same client, prints both
 * outcomes, and has nothing left to do: the process must then exit by itself.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { createObservabilityClient } from '../../../clients/ts/client.js';

const [url, bytes] = process.argv.slice(2);
const client = createObservabilityClient(url!, { protocol: 'grpc' });
try {
  await client.anomalies.recordSample({ metric: 'x'.repeat(Number(bytes)), value: 1 });
  console.log('oversize: OK');
} catch (error) {
  console.log(`oversize: ${Code[ConnectError.from(error).code]}`);
}
await client.anomalies.recordSample({ metric: 'after_oversize', value: 1 });
console.log('under the cap: OK');
