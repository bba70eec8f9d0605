/**
 * One server variant for the transport benchmark, in its own process so its CPU can be measured:
 *   front-door   the real service (npm start): HTTP/2 connections handed to grpc-js
 *   grpc-js      a grpc-js server bound to the port itself, same service code and call pipeline
 *   grpc-js-heap the same with the V8 sampling heap profiler running, as the service runs it
 *   connect-h2   connect-node's adapter on a node:http2 server, same service code and pipeline
 * Prints `ready <port>` when listening.
 */
import * as grpc from '@grpc/grpc-js';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { trace } from '@opentelemetry/api';
import { createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { startService } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { AnomalyEngine } from '../../src/core/anomaly/index.js';
import { systemClock } from '../../src/core/clock.js';
import { MetricsEngine } from '../../src/core/metrics/index.js';
import { HeapSampler } from '../../src/core/profiling/pprof/index.js';
import { connectRoutes } from '../../src/server/connect/routes.js';
import { grpcServiceOf } from '../../src/server/grpc/service-adapter.js';
import { rpcMetrics } from '../../src/server/http/metrics-endpoint.js';
import { CallPipeline } from '../../src/server/pipeline/invoke.js';
import { anomalyBinding } from '../../src/server/services/anomaly.js';

const variant = process.argv[2];

function standalone() {
  const metrics = new MetricsEngine({ clock: systemClock });
  const pipeline = new CallPipeline(trace.getTracer('bench'), rpcMetrics(metrics), new AbortController().signal);
  // Nothing is refused: the bench measures the transports, not the unsent budget.
  const unsent = { answer: () => {} };
  return { binding: anomalyBinding(new AnomalyEngine({ clock: systemClock }), systemClock), pipeline, unsent };
}

if (variant === 'front-door') {
  // Its heap sampler runs, as the cli runs it.
  const heapSampler = new HeapSampler();
  await heapSampler.start();
  const service = await startService(loadConfig({ ...process.env, RS3GW_PORT: '0', RS3GW_PROFILING_ENABLED: 'false' }), heapSampler);
  console.log(`ready ${new URL(service.url).port}`);
} else if (variant === 'grpc-js' || variant === 'grpc-js-heap') {
  if (variant === 'grpc-js-heap') await new HeapSampler().start();
  const { binding, pipeline, unsent } = standalone();
  const server = new grpc.Server();
  const { definition, implementation } = grpcServiceOf(binding, pipeline, unsent);
  server.addService(definition, implementation);
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    console.log(`ready ${port}`);
  });
} else if (variant === 'connect-h2') {
  const { binding, pipeline, unsent } = standalone();
  const server = createServer(connectNodeAdapter({ routes: connectRoutes([binding], pipeline, unsent) }));
  server.listen(0, '127.0.0.1', () => console.log(`ready ${(server.address() as AddressInfo).port}`));
} else {
  throw new Error(`unknown variant ${variant}`);
}
