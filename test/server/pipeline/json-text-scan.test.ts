/**
 * The scan of JSON request text: it finds the duplicate keys protobuf-es's fromJsonString refuses
 * (the check parseJsonText ran before, through a second parse), and a body is parsed once; and it
 * notes, with where each is, the numbers JSON.parse may read as an integer other than the one written.
 */
import { fromJsonString } from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObservabilityError } from '../../../src/core/errors.js';
import { scanJsonText } from '../../../src/server/pipeline/json-text-scan.js';
import { parseJsonText } from '../../../src/server/pipeline/json-request.js';

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

test('notes each number JSON.parse may read as another integer, with the keys and indices down to it', () => {
  const noted = (text: string) => scanJsonText(text).inexactIntegers;
  assert.equal(noted('{"a":9007199254740993}'), [{ path: ['a'], text: '9007199254740993' }]);
  assert.equal(noted('{"a":[1,"x,",{"b":-12345678901234567891}],"c":{"d":[[0,18446744073709551615]]}}'), [
    { path: ['a', 2, 'b'], text: '-12345678901234567891' },
    { path: ['c', 'd', 0, 1], text: '18446744073709551615' },
  ]);
  // Rounded to an integer: a fraction of more digits than a double holds, an exponent.
  assert.equal(noted('{"a":1.0000000000000001,"b":1e-400,"c":2E3,"\\"":[1.5e1]}'), [
    { path: ['a'], text: '1.0000000000000001' },
    { path: ['b'], text: '1e-400' },
    { path: ['c'], text: '2E3' },
    { path: ['"', 0], text: '1.5e1' },
  ]);
  // Read as written, or read as a fraction (a double takes it as such; an integer field refuses it).
  assert.equal(noted('{"a":9007199254740991,"b":-9007199254740991,"c":0.30000000000000004,"d":1.5,"e":1e-7,"f":"12345678901234567891","g":1e400}'), []);
  // At the top, where no field holds it.
  assert.equal(noted('12345678901234567891'), []);
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

test.run();
