/**
 * The REST JSON writer's chunked text is byte for byte the one-shot
 * `JSON.stringify(toJson(...))` it replaced, for messages large enough to be written in many chunks
 * and with the keys JavaScript objects order specially (integer-like, `__proto__`).
 */
import { create, toJson, type DescMessage, type Message } from '@bufbuild/protobuf';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExportMetricsResponseSchema, GetTrendResponseSchema, MetricType } from '../../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import { JSON_CHUNK_CHARS, jsonText } from '../../../src/server/rest/response.js';

const oneShot = (schema: DescMessage, message: Message) => JSON.stringify(toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true }));

function bigExport() {
  const metrics: Record<string, unknown> = {};
  // Integer-like keys come first in a JavaScript object whatever the insertion order; toJson's too.
  for (const name of ['zeta', '10', '__proto__', '2', 'é\u2028"\\', 'alpha']) {
    metrics[name] = {
      type: MetricType.HISTOGRAM,
      value: 1.5,
      description: `help of ${name}`,
      series: Array.from({ length: 800 }, (_, i) => ({
        labels: { [String(i)]: 'x', path: `/p/${i}/${'é'.repeat(i % 7)}`, '__proto__': 'y' },
        count: BigInt(i),
        sum: i / 3,
        buckets: [{ upperBound: 1, cumulativeCount: 1n }, { upperBound: Infinity, cumulativeCount: BigInt(i) }],
        quantiles: [],
      })),
    };
  }
  return create(ExportMetricsResponseSchema, { timestamp: { seconds: 1_700_000_000n, nanos: 5 }, metrics: Object.fromEntries(Object.entries(metrics)) as never });
}

test('a large export: the same text as in one go, over many chunks', async () => {
  const message = bigExport();
  const expected = oneShot(ExportMetricsResponseSchema, message);
  assert.ok(expected.length > 4 * JSON_CHUNK_CHARS, `${expected.length} characters`);
  assert.ok((await jsonText(ExportMetricsResponseSchema, message)) === expected, 'chunked text differs');
});

test('small messages, empty lists and maps, and well-known types are written as before', async () => {
  const empty = create(ExportMetricsResponseSchema, {});
  assert.is(await jsonText(ExportMetricsResponseSchema, empty), oneShot(ExportMetricsResponseSchema, empty));
  const trend = create(GetTrendResponseSchema, {
    name: 'g',
    labels: { b: '1', '1': 'a' },
    window: { seconds: 86_400n },
    covered: { seconds: 3n, nanos: 500_000_000 },
    historyTruncated: true,
    changePercent: Number.NaN,
    points: Array.from({ length: 100 }, (_, i) => ({ time: { seconds: BigInt(i) }, value: -i })),
  });
  assert.is(await jsonText(GetTrendResponseSchema, trend), oneShot(GetTrendResponseSchema, trend));
});

test.run();
