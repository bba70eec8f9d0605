/**
 * What reading a large JSON request body costs beyond JSON.parse:
 *   npx tsx bench/pipeline/json-text.ts [--reps 15]
 * For 4 MiB bodies of four shapes (the batch of records a BatchRecordMetrics sends, one long
 * string, one long string of escapes, a list of exponent numbers), prints the median time of parseJsonText (JSON.parse and the
 * text scan: duplicate keys, nesting depth, numbers a double would change) against plain JSON.parse of the same text, measured in the same run, one
 * after the other in each repetition; and, for comparison, the way it was read before the scan (a
 * second parse through protobuf-es's fromJsonString, for its duplicate-key check).
 */
import { fromJsonString } from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { parseJsonText } from '../../src/server/pipeline/json-request.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const REPS = Number(args.get('reps') ?? 15);
const TARGET = 4 * 1024 * 1024 - 1024;

function records(): string {
  const out: string[] = [];
  let length = 12;
  for (let k = 0; length < TARGET; k++) {
    const r = JSON.stringify({ name: 'bb', value: k, labels: { id: `v${k}` } });
    out.push(r);
    length += r.length + 1;
  }
  out.pop();
  return `{"records":[${out.join(',')}]}`;
}

const bodies: Record<string, string> = {
  records: records(),
  string: JSON.stringify({ records: [{ name: 'bb', value: 1, labels: { id: 'x'.repeat(TARGET - 80) } }] }),
  escapes: JSON.stringify({ records: [{ name: 'bb', value: 1, labels: { id: '"\\'.repeat((TARGET - 80) / 4) } }] }),
  // Numbers a double may not hold as written (an exponent each): the scan counts them, keeping nothing per number.
  exponents: `{"name":"x","buckets":[${Array(Math.floor((TARGET - 40) / 4)).fill('1e1').join(',')}]}`,
};

const ways: Record<string, (text: string) => unknown> = {
  'JSON.parse': (text) => JSON.parse(text),
  parseJsonText: (text) => parseJsonText(text),
  'before (parse + fromJsonString)': (text) => {
    JSON.parse(text);
    return fromJsonString(EmptySchema, `{"":${text}}`, { ignoreUnknownFields: true });
  },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

console.log(`median of ${REPS} (after 3 warm-up rounds), ms`);
for (const [shape, text] of Object.entries(bodies)) {
  const times = new Map<string, number[]>(Object.keys(ways).map((w) => [w, []]));
  for (let rep = -3; rep < REPS; rep++) {
    for (const [name, way] of Object.entries(ways)) {
      const t = performance.now();
      way(text);
      const ms = performance.now() - t;
      if (rep >= 0) times.get(name)!.push(ms);
    }
  }
  const base = median(times.get('JSON.parse')!);
  const row = [...times].map(([name, xs]) => `${name} ${median(xs).toFixed(1)}${name === 'JSON.parse' ? '' : ` (x${(median(xs) / base).toFixed(2)})`}`);
  console.log(`${shape.padEnd(9)} ${(text.length / 1048576).toFixed(2)} MiB: ${row.join(' | ')}`);
}
