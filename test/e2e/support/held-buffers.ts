/**
 * What a running service keeps, for tests of memory held by open calls: a probe preloaded into the
 * service collects its garbage on SIGUSR2 and prints the bytes its ArrayBuffers (every Buffer)
 * hold, which is then what is kept, not what awaits collection. An idle service never collects on
 * its own, so its RSS says nothing of that.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type RunningServer } from '../../support/server.js';

const PROBE = `process.on('SIGUSR2', () => {
  globalThis.gc();
  // Freed buffers are swept on another thread: counted once the sweep is done.
  setTimeout(() => { globalThis.gc(); process.stderr.write('probe arrayBuffers=' + process.memoryUsage().arrayBuffers + '\\n'); }, 200);
});`;

/** Starts the service with the probe; `stop` also removes the probe's file. */
export async function startProbedServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rs3gw-held-'));
  const probe = join(dir, 'probe.cjs');
  writeFileSync(probe, PROBE);
  const server = await startServer({ ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --require ${probe}` });
  const stop = server.stop.bind(server);
  server.stop = async () => {
    try {
      return await stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return server;
}

/** Megabytes of Buffers the probed service holds once its garbage is collected. */
export async function heldBufferMb(server: RunningServer): Promise<number> {
  const seen = server.output().split('probe arrayBuffers=').length;
  server.process.kill('SIGUSR2');
  for (let i = 0; i < 100 && server.output().split('probe arrayBuffers=').length === seen; i++) await sleep(20);
  const all = [...server.output().matchAll(/probe arrayBuffers=(\d+)/g)];
  return Number(all.at(-1)![1]) / 1e6;
}

/** A protobuf varint. */
export function varint(n: number): number[] {
  const out: number[] = [];
  for (; n > 0x7f; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}
