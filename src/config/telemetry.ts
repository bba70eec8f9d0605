/** The standard OpenTelemetry variables we honour, validated like our own. */
import { ConfigError, parseFraction } from './parse.js';

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export interface TelemetryConfig {
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, parsed. */
  resourceAttributes: Record<string, string>;
  /** Export spans over OTLP: set when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set or OTEL_TRACES_EXPORTER=otlp. */
  exporter: 'otlp' | 'console' | 'none';
  /** OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL: grpc, http/protobuf (default) or http/json. */
  protocol: 'grpc' | 'http/protobuf' | 'http/json';
  sampler: SamplerName;
  samplerRatio: number;
}

export function readTelemetryConfig(env: NodeJS.ProcessEnv): TelemetryConfig {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const exporterVar = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  let exporter: TelemetryConfig['exporter'];
  if (exporterVar === '') exporter = endpoint ? 'otlp' : 'none';
  else if (exporterVar === 'otlp' || exporterVar === 'console' || exporterVar === 'none') exporter = exporterVar;
  else throw new ConfigError('OTEL_TRACES_EXPORTER', `must be otlp, console or none, got '${env.OTEL_TRACES_EXPORTER}'`);

  const protocolVar = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim();
  if (protocolVar !== 'grpc' && protocolVar !== 'http/protobuf' && protocolVar !== 'http/json') {
    throw new ConfigError('OTEL_EXPORTER_OTLP_PROTOCOL', `must be grpc, http/protobuf or http/json, got '${protocolVar}'`);
  }

  const samplerVar = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase() as SamplerName;
  if (!SAMPLERS.includes(samplerVar)) {
    throw new ConfigError('OTEL_TRACES_SAMPLER', `must be one of ${SAMPLERS.join(', ')}, got '${env.OTEL_TRACES_SAMPLER}'`);
  }
  const samplerRatio =
    env.OTEL_TRACES_SAMPLER_ARG !== undefined && env.OTEL_TRACES_SAMPLER_ARG !== ''
      ? parseFraction(env.OTEL_TRACES_SAMPLER_ARG, 'OTEL_TRACES_SAMPLER_ARG')
      : 1;

  const resourceAttributes: Record<string, string> = {};
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError('OTEL_RESOURCE_ATTRIBUTES', `expected key=value pairs, got '${pair}'`);
    resourceAttributes[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || resourceAttributes['service.name'] || 'rs3gw-observability';
  return { serviceName, resourceAttributes, exporter, protocol: protocolVar, sampler: samplerVar, samplerRatio };
}
