import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'admission-cli-'));

/** Runs `npm run bench:admission -- ...args` as a user would (through tsx), at most `timeoutMs`. */
function cli(args: string[], timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/admission/cli.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function scenarioFile(name: string, extra: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  const base = { name, seeds: [1, 2], workers: 2, service: { lognormal: { meanMs: 10, sigma: 0.5 } } };
  writeFileSync(path, JSON.stringify({ ...base, ...extra }));
  return path;
}

const under = scenarioFile('under', { phases: [{ seconds: 10, load: 0.5 }] });

test('--scenario without a FILE is a usage error', () => {
  for (const args of [['--scenario'], ['--scenario', '--table']]) {
    const r = cli(args);
    assert.is(r.status, 1);
    assert.match(r.stderr, /^--scenario needs a FILE\nusage:/);
    assert.is(r.stdout, '');
  }
});

test('the output modes are alternatives: two of them are a usage error', () => {
  for (const args of [['--table', '--summary'], ['--gates', '--table'], ['--summary', '--gates']]) {
    const r = cli(['--scenario', under, '--controllers', 'none', ...args]);
    assert.is(r.status, 1, args.join(' '));
    assert.match(r.stderr, /^--table, --summary and --gates are alternatives: give at most one\nusage:/);
    assert.is(r.stdout, '');
  }
});

test('the tables name a scenario without an overload phase and point to the JSON', () => {
  const table = cli(['--scenario', under, '--controllers', 'none,aimd', '--table']);
  assert.is(table.status, 0, table.stderr);
  assert.match(table.stdout, /^### under\n\nThe scenario has no overload phase; .* the JSON output .* has every phase's metrics\.\n/);
  for (const mode of ['--summary', '--gates']) {
    const r = cli(['--scenario', under, '--controllers', 'none,project', mode]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /\n- `under`: no overload phase; .* has every phase's metrics\.\n/, mode);
  }
});

test('millisecond on/off cycles over a long run with many silent phases finish in seconds', () => {
  // 998 silent phases of 80 s, then a minute of traffic, in 3 ms cycles: the arrivals stepped
  // through each of the 27 million cycles, scanning the phases for each, and the run never ended.
  const phases = [...Array.from({ length: 998 }, () => ({ seconds: 80, load: 0 })), { seconds: 60, load: 0.5 }];
  const file = scenarioFile('ms-cycles', { seeds: [1], arrivals: { onOff: { onS: 0.001, offS: 0.002 } }, phases });
  const r = cli(['--scenario', file, '--controllers', 'none'], 30_000);
  assert.is(r.status, 0, r.stderr || 'timed out');
  const last = JSON.parse(r.stdout).controllers.none.phases[998];
  assert.ok(last.goodput.median > 0.1, `goodput ${last.goodput.median} in the phase with traffic`);
});

test('on/off periods below a millisecond are refused, naming the key', () => {
  const file = scenarioFile('tiny-cycles', { arrivals: { onOff: { onS: 1e-9, offS: 1e-9 } }, phases: [{ seconds: 10, load: 0.5 }] });
  const r = cli(['--scenario', file, '--controllers', 'none'], 30_000);
  assert.is(r.status, 1);
  assert.is(r.stderr, 'invalid scenario: arrivals.onOff.onS: must be >= 0.001\n');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
