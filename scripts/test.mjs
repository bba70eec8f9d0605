#!/usr/bin/env node
// `npm test`: builds (tsc, which type-checks everything and produces the server the end-to-end
// tests start), runs every uvu test file (from source, through tsx) in its own process, runs the Go client's tests against the real server, and ends with `N passed, N failed`.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filter = process.argv[2]; // optional substring: run only matching test files
let passed = 0;
let failed = 0;
const failures = [];

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

function record(name, ok, detail) {
  if (ok) passed++;
  else {
    failed++;
    failures.push(name);
    if (detail) console.log(detail);
  }
}

console.log('# tools (pinned Go tools, promtool)');
const tools = await run('bash', ['scripts/test-tools.sh']);
record('tools', tools.code === 0, tools.output);

console.log('# contracts (buf lint, buf breaking, generated code up to date)');
const lint = await run('npx', ['buf', 'lint']);
record('buf lint', lint.code === 0, lint.output);
console.log(`${lint.code === 0 ? '✔' : '✘'} buf lint`);
const previous = await run('git', ['rev-parse', '--verify', '-q', 'HEAD~1:proto']);
if (previous.code === 0) {
  const breaking = await run('npx', ['buf', 'breaking', '--against', '.git#ref=HEAD~1']);
  record('buf breaking', breaking.code === 0, breaking.output);
  console.log(`${breaking.code === 0 ? '✔' : '✘'} buf breaking (FILE) against the previous commit`);
} else {
  console.log('- buf breaking: the previous commit has no contracts to compare with');
}
const stale = await run('bash', ['-c', 'snapshot=$(mktemp -d) && cp -r gen "$snapshot/" && bash scripts/generate.sh >/dev/null && diff -r "$snapshot/gen" gen; status=$?; rm -rf "$snapshot"; exit $status']);
record('generated code up to date', stale.code === 0, `gen/ differs from a fresh \`npm run generate\`:\n${stale.output}`);
console.log(`${stale.code === 0 ? '✔' : '✘'} gen/ matches a fresh generation`);

console.log('# build (tsc)');
const build = await run('npx', ['tsc', '-p', 'tsconfig.json']);
record('build', build.code === 0, build.output);
if (build.code !== 0) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}

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
    record(name, false, result.output);
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
    console.log(
      go.output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l).Output ?? '')
        .join(''),
    );
  }
}

if (failures.length) console.log(`failed: ${failures.join(', ')}`);
if (passed + failed === 0) failed = 1; // a run that executes no test is a failure
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
