/**
 * Each periodic snapshot's CPU figure covers the time since the snapshot before it, however often
 * clients measure the process in between (GetProfile, ListProcesses, the health report).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer } from '../support/server.js';
import { API, Rest, durationMs, int, timeMs, type Json } from './support/rest-http.js';

const INTERVAL_S = 3;

test('snapshots cover the whole interval and the CPU used in it while clients poll every 1.1 s', async () => {
  const server = await startServer({ RS3GW_PROFILING_INTERVAL: String(INTERVAL_S), RS3GW_SHUTDOWN_GRACE: '1' });
  const rest = new Rest(server.url);
  try {
    // Polled past three snapshots (at start-up, 3 s and 6 s), and busy: CPU the snapshots must count.
    const polls = ['/profiling', '/profiling/processes', '/health'];
    for (let i = 0; i < 7; i++) {
      await rest.getOk(`${API}${polls[i % polls.length]}`);
      await Promise.all(Array.from({ length: 20 }, () => rest.getOk(`${API}/health`)));
      await sleep(1100);
    }
    const { snapshots } = await rest.getOk(`${API}/profiling/snapshots`);
    assert.ok(snapshots.length >= 3, `three snapshots in 7.7 s at ${INTERVAL_S} s: ${snapshots.length}`);
    for (let i = 0; i + 1 < snapshots.length; i++) {
      const [newer, older]: Json[] = [snapshots[i], snapshots[i + 1]];
      assert.is(newer.cpu.basis, 'CPU_MEASUREMENT_BASIS_INTERVAL');
      const windowMs = durationMs(newer.cpu.interval);
      const apartMs = timeMs(newer.timestamp) - timeMs(older.timestamp);
      assert.ok(Math.abs(windowMs - apartMs) < 100, `snapshot ${i}: its CPU window (${windowMs} ms) is the time since the one before (${apartMs} ms)`);
      assert.ok(Math.abs(windowMs - INTERVAL_S * 1000) < 300, `snapshot ${i}: window ${windowMs} ms, interval ${INTERVAL_S} s`);
      const cpuUs = int(newer.cpu.total_time_us) - int(older.cpu.total_time_us);
      const percent = (cpuUs / 1000 / windowMs) * 100;
      assert.ok(Math.abs(newer.cpu.usage_percent - percent) < 0.01, `snapshot ${i}: ${newer.cpu.usage_percent}% is the ${cpuUs} us of CPU used since the one before (${percent}%)`);
    }
  } finally {
    assert.is(await server.stop(), 0, 'exit code after SIGTERM');
  }
});

test.run();
