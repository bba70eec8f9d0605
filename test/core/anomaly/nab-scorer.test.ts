import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NAB_PROFILES, readCorpus, readWindows } from '../../../bench/nab/corpus.js';
import { probationRows, rowWeights, scoreCorpus } from '../../../bench/nab/scorer.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const nabDir = join(repoRoot, '..', 'shared', 'nab');

test('probation is 15% of the rows, at most 750', () => {
  assert.is(probationRows(1000), 150);
  assert.is(probationRows(4032), 604);
  assert.is(probationRows(10000), 750);
});

test('window weights: 1 at the window start, small at its end, -fpWeight far away', () => {
  const w = rowWeights({ name: 's', rows: 100, windows: [[40, 49]] }, NAB_PROFILES.standard);
  assert.is(w[10].weight, -0.11);
  assert.ok(Math.abs(w[40].weight - 1) < 1e-12);
  assert.ok(w[49].weight > 0 && w[49].weight < 0.3);
  assert.ok(w[50].weight > -0.11 && w[50].weight < 0);
  assert.is(w[99].weight, -0.11);
});

test('reproduces the published windowedGaussian scores on the tuning split', () => {
  const corpus = readCorpus(join(nabDir, 'data'), readWindows(join(nabDir, 'windows.json')));
  const reference = JSON.parse(gunzipSync(readFileSync(join(nabDir, 'windowedGaussian.reference.json.gz'))).toString()) as Record<
    string,
    number[]
  >;
  assert.is(corpus.length, 24);
  assert.is(corpus.reduce((n, s) => n + s.windows.length, 0), 34);
  const input = corpus.map((series) => ({ series, scores: reference[series.name] }));
  const expected: Record<string, number> = { standard: 51.3061, reward_low_FP_rate: 45.4971, reward_low_FN_rate: 59.3141 };
  for (const [name, profile] of Object.entries(NAB_PROFILES)) {
    const result = scoreCorpus(input, name, profile);
    assert.ok(Math.abs(result.score - expected[name]) < 5e-4, `${name}: ${result.score} vs ${expected[name]}`);
  }
});

test.run();
