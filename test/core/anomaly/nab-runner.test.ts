import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NAB_PROFILES, readCorpus, readWindows } from '../../../bench/nab/corpus.js';
import { runSeries, writeResult } from '../../../bench/nab/runner.js';
import { scoreCorpus } from '../../../bench/nab/scorer.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'anomaly', 'nab-mini');

test('the runner streams a NAB-layout folder through the engine and writes score and alarm columns', () => {
  const corpus = readCorpus(join(fixture, 'data'), readWindows(join(fixture, 'windows.json')));
  assert.is(corpus.length, 1);
  assert.equal(corpus[0].windows, [[420, 479]]);
  const result = runSeries(corpus[0]);
  const alarmRows = [...result.alarms].flatMap((a, i) => (a === 1 ? [i] : []));
  assert.equal(alarmRows, [450]);
  assert.ok([...result.alarms].every((a) => a === 0 || a === 1));
  assert.ok([...result.scores].every((s) => s >= 0 && s <= 1));

  const out = mkdtempSync(join(tmpdir(), 'nab-runner-'));
  try {
    writeResult(out, result);
    const lines = readFileSync(join(out, 'synthetic', 'latency_spike.csv'), 'utf8').trim().split('\n');
    assert.is(lines[0], 'timestamp,value,anomaly_score,alarm');
    assert.is(lines.length, 601);
    const row = lines[451].split(',');
    assert.is(row[0], corpus[0].timestamps[450]);
    assert.is(Number(row[1]), 120);
    assert.is(row[3], '1');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }

  // One alarm 30 rows into a 60-row window, nothing else: a positive score, below perfect.
  const score = scoreCorpus([{ series: corpus[0], scores: result.alarms }], 'standard', NAB_PROFILES.standard, 1).score;
  assert.ok(score > 90 && score < 100, `score ${score}`);
});

test.run();
