/**
 * The scan of JSON request text: it finds the duplicate keys protobuf-es's fromJsonString refuses
 * (the check parseJsonText ran before, through a second parse), and a body is parsed once; and it
 * counts the numbers JSON.parse may read as another number, keeping nothing per number.
 */
import { fromJsonString } from '@bufbuild/protobuf';
import type { DescMessage } from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../src/core/errors.js';
import { scanJsonText } from '../../../src/server/pipeline/json-text-scan.js';
import { messageFromJsonText, parseJsonText } from '../../../src/server/pipeline/json-request.js';
import { RequestPatternsSchema, type RequestPatterns } from '../../../gen/ts/rs3gw/observability/v1/metrics_pb.js';
import { RecordIoRequestSchema, type RecordIoRequest } from '../../../gen/ts/rs3gw/observability/v1/profiling_pb.js';

/** protobuf-es's answer: the duplicate key its reader names, or undefined. */
function protobufEs(text: string): string | undefined {
  try {
    fromJsonString(EmptySchema, `{"":${text}}`, { ignoreUnknownFields: true });
    return undefined;
  } catch (error) {
    return /duplicate object key "(.*)"$/s.exec((error as Error).message)?.[1];
  }
}

const cases: Array<[string, string | undefined]> = [
  ['{"a":1,"a":2}', 'a'],
  ['{"a":1,"b":2}', undefined],
  ['{}', undefined],
  ['[]', undefined],
  ['"a"', undefined],
  ['{"a":{},"b":{},"c":[{},{}]}', undefined],
  // Nested: the same key in different objects is no duplicate; in one object at depth it is.
  ['{"a":{"a":{"a":1}},"b":{"a":2}}', undefined],
  ['{"x":{"y":{"k":1,"k":2}}}', 'k'],
  ['{"x":[{"k":1},{"k":2}]}', undefined],
  ['{"x":[{"k":1},{"k":2,"j":3,"k":4}]}', 'k'],
  ['[[{"k":1}],[{"k":1,"k":1}]]', 'k'],
  // Keys the same once unescaped.
  ['{"a":1,"\\u0061":2}', 'a'],
  ['{"\\n":1,"\\u000a":2}', '\n'],
  ['{"a\\"b":1,"a\\u0022b":2}', 'a"b'],
  ['{"\\\\":1,"\\u005c":2}', '\\'],
  ['{"a\\\\":1,"a\\\\\\\\":2}', undefined],
  // Values that look like keys, objects or the end of a string.
  ['{"k":"{\\"k\\":1,\\"k\\":2}","j":"}","l":"[","m":",\\"k\\":"}', undefined],
  ['{"k":"\\\\","k2":"\\"","k3":"\\\\\\"","k":0}', 'k'],
  ['{"k":",","k":1}', 'k'],
  ['{"":1,"":2}', ''],
  ['{"__proto__":1,"__proto__":2}', '__proto__'],
  ['{"__proto__":{"a":1},"constructor":1,"toString":2,"hasOwnProperty":3}', undefined],
  // Surrogate pairs: escaped, literal and a lone half are each their own string.
  ['{"😀":1,"\\ud83d\\ude00":2}', '😀'],
  ['{"\\ud83d":1,"\\ude00":2,"\\ud83d\\ude00":3}', undefined],
  ['{"\\ud83d":1,"\ud83d":2}', '\ud83d'],
  [' { "a" : 1 , "b" : [ 1 , "a" , { "a" : 2 } ] , "a" : 3 } ', 'a'],
];

test('finds the duplicate key protobuf-es finds, and none where it finds none', () => {
  for (const [text, expected] of cases) {
    JSON.parse(text); // each case is JSON
    assert.is(scanJsonText(text).duplicateKey, expected, text);
    assert.is(protobufEs(text), expected, `protobuf-es on ${text}`);
  }
});

test('an object of many keys (past the linear scan) still finds its duplicate, whichever comes twice', () => {
  const names = Array.from({ length: 100 }, (_, i) => `k${i}`);
  const body = (extra: string) => `{${[...names, extra].map((k, i) => `"${k}":${i}`).join(',')}}`;
  assert.is(scanJsonText(body('k0')).duplicateKey, 'k0');
  assert.is(scanJsonText(body('k99')).duplicateKey, 'k99');
  assert.is(scanJsonText(body('k\\u0035')).duplicateKey, 'k5');
  assert.is(scanJsonText(body('k100')).duplicateKey, undefined);
  // Sibling objects each begin empty, also after a large one.
  assert.is(scanJsonText(`[${body('k100')},${body('k101')},{"k0":1}]`).duplicateKey, undefined);
});

test('random JSON: the same answer as protobuf-es', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const keyForms = ['a', '\\u0061', 'b', 'a\\"', 'a\\u0022', '\\\\', '__proto__', '😀', '\\ud83d\\ude00', '', '{', ',', ']'];
  const value = (depth: number): string => {
    const r = random();
    if (depth > 3 || r < 0.3) return pick(['1', '-2.5e3', 'true', 'null', '"x"', '"\\\\"', '"\\"}"', '"{\\"a\\":1,"', '"[,]"']);
    if (r < 0.55) return `[${Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1)).join(',')}]`;
    return `{${Array.from({ length: Math.floor(random() * 4) }, () => `"${pick(keyForms)}":${value(depth + 1)}`).join(',')}}`;
  };
  let duplicates = 0;
  for (let n = 0; n < 3000; n++) {
    const text = value(0);
    const expected = protobufEs(text);
    if (expected !== undefined) duplicates++;
    assert.is(scanJsonText(text).duplicateKey, expected, text);
  }
  assert.ok(duplicates > 100, `${duplicates} texts with a duplicate`);
});

test('counts the numbers JSON.parse may read as another number: more than 15 digits, or an exponent', () => {
  const counted = (text: string) => scanJsonText(text).inexactNumbers;
  assert.is(counted('{"a":9007199254740993}'), 1);
  assert.is(counted('{"a":[1,"x,12345678901234567891",{"b":-12345678901234567891}],"c":{"d":[[0,18446744073709551615]]}}'), 2);
  assert.is(counted('{"a":1.0000000000000001,"b":1e-400,"c":2E3,"\\"":[1.5e1]}'), 4);
  // Read as written: 15 digits at most, no exponent; numbers in strings are no numbers.
  assert.is(counted('{"a":900719925474099,"b":-0.12345678901234,"d":1.5,"f":"12345678901234567891","g":"1e1"}'), 0);
  assert.is(counted('12345678901234567891'), 1);
  assert.is(counted('{"a":1e1,"a":2}'), 0);
});

/** Heap bytes in use after a full collection. */
const gc = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();
const heapUsed = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

test('a body of numbers a double may not hold costs the scan no memory per number, however deep', () => {
  // 4 MiB of exponents, 60 levels deep (the depth limit is 64): the scan kept each one's path,
  // 654 MB of heap in 0.9 s; a count is all it keeps now.
  const count = Math.floor((4 * 1024 * 1024 - 200) / 4);
  const body = `{"name":"x","buckets":${'['.repeat(60)}${Array(count).fill('1e1').join(',')}${']'.repeat(60)}}`;
  const before = heapUsed();
  const scan = scanJsonText(body);
  const grown = heapUsed() - before;
  assert.ok(grown < 1024 * 1024, `the scan's result holds ${(grown / 1e6).toFixed(1)} MB`);
  assert.equal(scan, { inexactNumbers: count });
});

test('parseJsonText: the same error as before, naming the key, clipped when long', () => {
  const refused = (text: string): string => {
    try {
      parseJsonText(text);
    } catch (error) {
      assert.instance(error, ObservabilityError);
      return (error as Error).message;
    }
    throw new Error(`accepted ${text}`);
  };
  assert.is(refused('{"metric":"a","metric":"b"}'), 'request body: duplicate object key "metric": a key may appear once in a JSON object');
  const long = 'k'.repeat(500);
  assert.is(refused(`{"${long}":1,"${long}":2}`), `request body: duplicate object key "${'k'.repeat(200)}…" (500 characters): a key may appear once in a JSON object`);
  assert.match(refused('{"a":'), /^request body: not valid JSON/);
  assert.equal(parseJsonText('{"__proto__":{"a":1},"b":[{"b":1}]}'), JSON.parse('{"__proto__":{"a":1},"b":[{"b":1}]}'));
});

test('parseJsonText parses a body once: no second JSON.parse of the whole text', () => {
  const body = JSON.stringify({ records: Array.from({ length: 2000 }, (_, k) => ({ name: 'bb', value: k, labels: { id: `v${k}` } })) });
  const parse = JSON.parse;
  let whole = 0;
  JSON.parse = ((text: string, reviver?: Parameters<typeof parse>[1]) => {
    if (text.length >= body.length) whole++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  try {
    parseJsonText(body);
  } finally {
    JSON.parse = parse;
  }
  assert.is(whole, 1);
});

test('integer fields are read from the text again, the numbers of other fields left as they are, errors naming list and map paths', () => {
  const refused = (schema: DescMessage, text: string): string => {
    try {
      messageFromJsonText(schema, text);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error(`accepted ${text}`);
  };
  const u64 = 'must be an unsigned 64-bit integer (a JSON number or a decimal string)';
  // A map of uint64 (a response type, as no request has one): exact, and errors name the key.
  const patterns = messageFromJsonText(RequestPatternsSchema, '{"requests_by_bucket":{"a":18446744073709551615,"b":1e1,"__proto__":9007199254740993},"requests_by_operation":{}}') as RequestPatterns;
  assert.equal(Object.entries(patterns.requestsByBucket), [['a', 18446744073709551615n], ['b', 10n], ['__proto__', 9007199254740993n]]);
  assert.is(refused(RequestPatternsSchema, '{"requests_by_bucket":{"a":1,"b c":1.0000000000000001}}'), `requests_by_bucket.b c: ${u64}, got 1.0000000000000001`);
  assert.is(refused(RequestPatternsSchema, '{"requests_by_bucket":{"a":1.8446744073709551616e19}}'), `requests_by_bucket.a: ${u64}, got 1.8446744073709551616e19`);
  // In a list of messages, past values of other fields and strings that look like numbers.
  const io = messageFromJsonText(
    RecordIoRequestSchema,
    '{"operations":[{"direction":"IO_DIRECTION_READ","bytes":1,"latency":"1.5s"},{ "direction" : "IO_DIRECTION_WRITE" , "bytes" : 12345678901234567891 }]}',
  ) as RecordIoRequest;
  assert.equal(io.operations.map((o) => o.bytes), [1n, 12345678901234567891n]);
  assert.is(refused(RecordIoRequestSchema, '{"operations":[{"bytes":"1e1"},{"bytes":2},{"bytes":2.0000000000000001e0}]}'), `operations[0].bytes: ${u64}, got "1e1"`);
  assert.is(refused(RecordIoRequestSchema, '{"operations":[{"bytes":1},{"bytes":2},{"bytes":2.0000000000000001e0}]}'), `operations[2].bytes: ${u64}, got 2.0000000000000001e0`);
});

test.run();
