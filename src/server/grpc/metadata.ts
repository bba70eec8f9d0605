import type { Metadata } from '@grpc/grpc-js';

/** gRPC metadata as WHATWG Headers, the form the pipeline reads (binary `-bin` entries are skipped). */
export function headersFromMetadata(metadata: Metadata): Headers {
  const headers = new Headers();
  for (const [key, values] of Object.entries(metadata.getMap())) {
    if (key.endsWith('-bin') || typeof values !== 'string') continue;
    headers.append(key, values);
  }
  return headers;
}
