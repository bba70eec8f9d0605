/**
 * `npm start` as Docker and systemd run it: the stop signal goes to npm, and must reach the
 * service, which drains and exits, leaving no process behind.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../support/server.js';
import { within } from './support/rpc-helpers.js';

/** Every live descendant of `pid`, from /proc's children lists. */
function descendants(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const tid of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) found.push(child, ...descendants(child));
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    // A zombie has been reaped by nobody yet but runs nothing.
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('SIGTERM to `npm start` reaches the service: it drains, exits 0, and no process is left', async () => {
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: REPO_ROOT,
    env: { ...process.env, RS3GW_HOST: '127.0.0.1', RS3GW_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout.on('data', (d) => (output += d));
  npm.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  let started: number[] = [];
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        npm.stdout.on('data', () => /listening on http/.test(output) && resolve());
        void exited.then((code) => reject(new Error(`npm start exited with ${code} before listening:\n${output}`)));
      }),
      'npm start to listen',
      120_000,
    );
    started = descendants(npm.pid!);
    assert.ok(started.length > 0, 'npm start runs the service as its descendant');
    npm.kill('SIGTERM');
    const code = await within(exited, 'npm to exit after SIGTERM');
    assert.match(output, 'SIGTERM, draining', output);
    assert.is(code, 0, output);
    const left = started.filter(alive);
    assert.equal(left, [], `processes left after npm exited: ${left.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')).join('; ')}`);
  } finally {
    for (const pid of started.filter(alive)) process.kill(pid, 'SIGKILL');
    if (npm.exitCode === null) npm.kill('SIGKILL');
  }
});

test.run();
