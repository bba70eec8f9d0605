/**
 * A tiny OTLP/HTTP trace receiver for the tracing tests: accepts POST /v1/traces with
 * OTLP/JSON bodies (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) and keeps the spans, flattened with
 * their resource attributes, so tests can wait for the span they expect.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { within } from './rpc-helpers.js';

/** Spans kept at most; a test that needs more has a bug. */
const MAX_SPANS = 10_000;

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };
/** One span as OTLP/JSON encodes it (ids in hex). */
type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: KeyValue[]; status?: { code?: number; message?: string } };
type OtlpTraces = { resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: OtlpSpan[] }> }> };

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 2 = SERVER. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  resource: Record<string, string | number | boolean>;
}

function plain(attributes: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
  }
  return out;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests that were not POST /v1/traces with a JSON body. */
  readonly rejected: string[] = [];
  /** Milliseconds each export waits before its answer (a slow collector). */
  delayMs = 0;
  /** An HTTP status every export is refused with (503, 429...), instead of taking its spans. */
  refuseWith: number | undefined;
  /** Exports answered so far, refused ones included. */
  exports = 0;
  private readonly server: Server;
  private readonly waiters = new Set<() => void>();

  private constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', async () => {
        if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
        this.exports++;
        if (this.refuseWith !== undefined) {
          res.writeHead(this.refuseWith, { 'content-type': 'text/plain' }).end('refused');
          return;
        }
        if (req.method !== 'POST' || req.url !== '/v1/traces' || !(req.headers['content-type'] ?? '').includes('application/json')) {
          this.rejected.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
          // As a collector answers: 404 for a path it does not serve, 400 for a body it cannot read.
          res.writeHead(req.url === '/v1/traces' ? 400 : 404).end();
          return;
        }
        this.accept(JSON.parse(body) as OtlpTraces);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Waits until a span satisfying `match` has arrived. */
  waitFor(match: (span: ReceivedSpan) => boolean, what: string, ms?: number): Promise<ReceivedSpan> {
    return within(
      new Promise<ReceivedSpan>((resolve) => {
        const check = () => {
          const found = this.spans.find(match);
          if (found) {
            this.waiters.delete(check);
            resolve(found);
          }
        };
        this.waiters.add(check);
        check();
      }),
      what,
      ms,
    );
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(body: OtlpTraces): void {
    for (const rs of body.resourceSpans ?? []) {
      const resource = plain(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          if (this.spans.length >= MAX_SPANS) break;
          this.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: span.kind,
            attributes: plain(span.attributes),
            statusCode: span.status?.code ?? 0,
            statusMessage: span.status?.message ?? '',
            resource,
          });
        }
      }
    }
    for (const check of [...this.waiters]) check();
  }
}
