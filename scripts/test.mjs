#!/usr/bin/env node
// `npm test`: set-up steps (the tools, the contract checks, the build with tsc, which type-checks
// everything and produces the server the end-to-end tests start), then every uvu test file (from
// source, through tsx) in its own process and the Go client's tests against the real server. It
// ends with `N passed, N failed`: passed counts tests; failed counts failed tests, and also each
// failed set-up step and a run in which no test ran, so that the line never reads `0 failed` on a
// run that fails (exit 1); the line before the count says what failed.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filter = process.argv[2]; // optional substring: run only matching test files
let passed = 0; // tests
let failed = 0;
const failures = [];
const failedSteps = [];

function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, ...options });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
      if (options.echo) process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      output += d;
      if (options.echo) process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15 * 60_000);
    // A command that cannot be started (not on PATH) is a failed run of it, with the reason.
    child.on('error', (error) => {
      clearTimeout(timer);
      const reason = error.code === 'ENOENT' ? `${cmd}: not found on PATH` : `${cmd}: ${error.message}`;
      resolve({ code: 1, signal: null, output: `${output}${reason}\n` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, signal, output });
    });
  });
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

// A set-up step is not a test: it counts in `N failed` when it fails, never in `N passed`.
function step(name, ok, detail) {
  console.log(`${ok ? '✔' : '✘'} ${name}`);
  if (ok) return;
  failedSteps.push(name);
  if (detail) console.log(detail);
}

function finish() {
  if (failures.length) console.log(`failed: ${failures.join(', ')}`);
  if (failedSteps.length) console.log(`set-up failed: ${failedSteps.join(', ')}`);
  if (passed + failed === 0) {
    const where = filter ? `the filter '${filter}' matches no test file under test/ and not clients/go` : 'no test file found';
    console.log(`no test ran (${where}): the run fails`);
  }
  const noTest = passed + failed === 0 ? 1 : 0;
  const failedCount = failed + failedSteps.length + noTest;
  console.log(`${passed} passed, ${failedCount} failed`);
  process.exit(failedCount === 0 ? 0 : 1);
}

console.log('# tools (pinned Go tools, promtool)');
const tools = await run('bash', ['scripts/test-tools.sh']);
step('tools', tools.code === 0, tools.output);

console.log('# contracts (buf lint, buf breaking, generated code up to date)');
const lint = await run('npx', ['buf', 'lint']);
step('buf lint', lint.code === 0, lint.output);
const skipBreaking = await breakingSkipReason();
if (skipBreaking) {
  console.log(`- buf breaking: skipped: ${skipBreaking}`);
} else {
  const breaking = await run('npx', ['buf', 'breaking', '--against', '.git#ref=HEAD~1']);
  step('buf breaking (FILE) against the previous commit', breaking.code === 0, breaking.output);
}
// Generates into a temporary directory and compares: gen/ itself is left as it is.
const stale = await run('bash', ['scripts/generate.sh', '--check']);
step('gen/ matches a fresh generation', stale.code === 0, stale.output);

console.log('# build (tsc)');
const build = await run('npx', ['tsc', '-p', 'tsconfig.json']);
step('build', build.code === 0, build.output);
if (build.code !== 0) finish(); // the end-to-end tests need the build

for (const file of testFiles(join(root, 'test'))) {
  const name = relative(root, file);
  if (filter && !name.includes(filter)) continue;
  const started = Date.now();
  const result = await run(process.execPath, ['--import', 'tsx', '--enable-source-maps', file]);
  const total = Number(/Total:\s+(\d+)/.exec(result.output)?.[1] ?? NaN);
  const ok = Number(/Passed:\s+(\d+)/.exec(result.output)?.[1] ?? NaN);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (!Number.isFinite(total)) {
    console.log(`✘ ${name}: crashed (exit ${result.code}${result.signal ? `, ${result.signal}` : ''}) ${seconds}s`);
    console.log(result.output);
    failed++; // counted as one failed test
    failures.push(name);
    continue;
  }
  passed += ok;
  failed += total - ok;
  if (total - ok > 0 || result.code !== 0) {
    console.log(`✘ ${name}: ${ok}/${total} ${seconds}s`);
    console.log(result.output);
    failures.push(name);
    if (total === ok) failed++; // exited non-zero although every test passed
  } else {
    console.log(`✔ ${name}: ${ok}/${total} ${seconds}s`);
  }
}

if (!filter || 'clients/go'.includes(filter)) {
  console.log('# clients/go (go test)');
  const go = await run('go', ['test', '-count=1', '-json', './...'], { cwd: join(root, 'clients', 'go'), timeoutMs: 10 * 60_000 });
  let goPassed = 0;
  let goFailed = 0;
  for (const line of go.output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line);
    if (!event.Test) continue;
    if (event.Action === 'pass') goPassed++;
    if (event.Action === 'fail') goFailed++;
  }
  if (go.code !== 0 && goFailed === 0) goFailed = 1; // build failure or crash
  passed += goPassed;
  failed += goFailed;
  console.log(`${goFailed ? '✘' : '✔'} clients/go: ${goPassed}/${goPassed + goFailed}`);
  if (goFailed) {
    failures.push('clients/go');
    // Each event's output, and as they are the lines that are not events (go's own errors, or why go could not start).
    console.log(
      go.output
        .split('\n')
        .map((l) => (l.startsWith('{') ? (JSON.parse(l).Output ?? '') : l && `${l}\n`))
        .join(''),
    );
  }
}

finish();

// Why buf breaking cannot compare with the previous commit, or '' when it can.
async function breakingSkipReason() {
  if ((await run('git', ['rev-parse', '--verify', '-q', 'HEAD~1:proto'])).code === 0) return '';
  const shallow = await run('git', ['rev-parse', '--is-shallow-repository']);
  if (shallow.code !== 0) return `no git history to compare with (${shallow.output.trim().split('\n')[0]})`;
  if ((await run('git', ['rev-parse', '--verify', '-q', 'HEAD~1^{commit}'])).code === 0) {
    return 'the previous commit has no contracts to compare with';
  }
  if (shallow.output.trim() === 'true') {
    return 'this clone is shallow and does not hold the previous commit (`git fetch --deepen=1` fetches it)';
  }
  return 'this is the first commit';
}
