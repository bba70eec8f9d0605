/**
 * The stderr lines about load shedding and memory pressure, in process with a fake clock: a line
 * when each starts and stops, with the level and the signals, three episodes in a row as they
 * happen, and no more than six and then one a minute per priority when a signal flaps, the changes
 * in between summed up once the minute is over.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Clock } from '../../../src/core/clock.js';
import { createAdmissionController } from '../../../src/core/resource/admission/factory.js';
import { ResourceManager } from '../../../src/core/resource/manager.js';
import type { PressureDetail } from '../../../src/core/resource/signals/monitor.js';
import type { PressureSnapshot } from '../../../src/core/resource/signals/types.js';
import { ADMISSION_LOG_INTERVAL_MS, AdmissionLog } from '../../../src/server/ops/admission-log.js';
import { FixturePressure, pressureSnapshot } from '../../core/resource/manager-fixtures.js';

/** A manager on fixture pressure, the log watching it, and a clock the test moves. */
function setup() {
  let nowMs = 0;
  const clock: Clock = { nowMs: () => nowMs };
  const pressure = new FixturePressure();
  const controller = createAdmissionController('adaptive', 0, { initialRps: 1000, minRps: 10, maxRps: 100_000, adaptive: true });
  const manager = new ResourceManager({ clock, wallClock: clock, controller, pressure });
  const lines: string[] = [];
  const log = new AdmissionLog({ clock, log: (line) => lines.push(line) });
  let detail: PressureDetail = { overloadCauses: [], memoryPressureCauses: [] };
  return {
    lines,
    /** Sets what the monitor reports; the manager reads it at its next refresh (a second later). */
    set(overload: number, memoryPressure = false, causes: Partial<PressureDetail> = {}, snapshot: Partial<PressureSnapshot> = {}) {
      pressure.current = { ...pressureSnapshot(overload, memoryPressure), ...snapshot };
      detail = { overloadCauses: overload > 0 ? ['cpu'] : [], memoryPressureCauses: memoryPressure ? ['memory'] : [], ...causes };
    },
    /** Housekeeping ticks every 100 ms for `ms`, as in the service. */
    run(ms: number) {
      for (let t = 0; t < ms; t += 100) {
        nowMs += 100;
        manager.tick();
        log.observe(manager.status(), detail);
      }
    },
    manager,
  };
}

test('shedding of each priority starting and stopping is one line each, with the level and the signals', () => {
  const s = setup();
  s.run(5000);
  assert.equal(s.lines, [], 'nothing while nothing changes');
  s.set(1);
  // Priorities escalate one after the other, seconds apart: a line each as it starts.
  s.run(30_000);
  assert.equal(s.lines, [
    'admission: shedding sheddable requests started: pressure level 1.00; overload 1.00 from cpu 100.0% of 2 cores (/proc/stat)',
    'admission: shedding normal requests started: pressure level 1.00; overload 1.00 from cpu 100.0% of 2 cores (/proc/stat)',
    'admission: shedding critical requests started: pressure level 1.00; overload 1.00 from cpu 100.0% of 2 cores (/proc/stat)',
  ]);
  assert.is(s.manager.acquire('critical').admitted, false, 'what the lines say is what Acquire does');
  s.lines.length = 0;
  s.run(10 * 60_000);
  assert.equal(s.lines, [], 'nothing more while shedding goes on');
  s.set(0.7);
  s.run(1500);
  assert.equal(s.lines, ['admission: shedding critical requests stopped: pressure level 0.70; overload 0.70 from cpu 70.0% of 2 cores (/proc/stat)']);
  s.lines.length = 0;
  s.set(0);
  s.run(1500);
  assert.equal(s.lines, [
    'admission: shedding normal requests stopped: pressure level 0.00',
    'admission: shedding sheddable requests stopped: pressure level 0.00',
  ]);
});

test('memory pressure turning on and off is a line each, naming the signal, and the shedding it brings', () => {
  const s = setup();
  s.set(0, true);
  s.run(1500);
  assert.equal(s.lines, [
    'admission: memory pressure on: memory 90.0% of 9537 MiB (/proc/meminfo)',
    'admission: shedding sheddable requests started: pressure level 0.60; memory pressure from memory 90.0% of 9537 MiB (/proc/meminfo)',
  ]);
  s.lines.length = 0;
  s.set(0);
  s.run(1500);
  assert.equal(s.lines, [
    'admission: shedding sheddable requests stopped: pressure level 0.00',
    'admission: memory pressure off: memory 40.0% of 9537 MiB (/proc/meminfo), V8 old generation 30.0% of 95 MiB',
  ]);
});

test('each signal behind the level is named with its reading and where it was read', () => {
  const s = setup();
  const cpu = { utilization: 0.6, availableCores: 2, source: 'cgroup2:cpu.stat over cpu.max', throttledPercent: 92.68292682926829, throttlingSource: 'cgroup2:/sys/fs/cgroup/cpu.stat' };
  const psi = { cpuSomeAvg10: 90, ioSomeAvg10: 70, memoryFullAvg10: 30, source: 'cgroup2:/sys/fs/cgroup/cpu.pressure' };
  const eventLoop = { delayP99Ms: 812.4, utilization: 1 };
  s.set(1, true, { overloadCauses: ['psi_cpu_some', 'cpu_throttled', 'psi_io_some', 'event_loop_delay'], memoryPressureCauses: ['psi_memory_full', 'heap'] }, { cpu, psi, eventLoop });
  s.run(1500);
  assert.equal(s.lines, [
    'admission: memory pressure on: PSI memory full 30% (avg10, cgroup2:/sys/fs/cgroup/cpu.pressure), V8 old generation 30.0% of 95 MiB',
    'admission: shedding sheddable requests started: pressure level 1.00; ' +
      'overload 1.00 from PSI cpu some 90% (avg10, cgroup2:/sys/fs/cgroup/cpu.pressure), CPU quota throttled in 92.7% of periods over 10 s (cgroup2:/sys/fs/cgroup/cpu.stat), ' +
      'PSI io some 70% (avg10, cgroup2:/sys/fs/cgroup/cpu.pressure), event-loop delay p99 812 ms; ' +
      'memory pressure from PSI memory full 30% (avg10, cgroup2:/sys/fs/cgroup/cpu.pressure), V8 old generation 30.0% of 95 MiB',
  ]);
});

test('memory pressure that PSI turned on names PSI again when it turns off, so the fall is seen', () => {
  const s = setup();
  const psi = { memoryFullAvg10: 15, source: 'cgroup2:/sys/fs/cgroup/memory.pressure' };
  s.set(0, true, { memoryPressureCauses: ['psi_memory_full'] }, { psi });
  s.run(1500);
  assert.equal(s.lines[0], 'admission: memory pressure on: PSI memory full 15% (avg10, cgroup2:/sys/fs/cgroup/memory.pressure)');
  s.lines.length = 0;
  s.set(0, false, {}, { psi: { ...psi, memoryFullAvg10: 4 } });
  s.run(1500);
  assert.equal(s.lines.at(-1), 'admission: memory pressure off: memory 40.0% of 9537 MiB (/proc/meminfo), V8 old generation 30.0% of 95 MiB, PSI memory full 4% (avg10, cgroup2:/sys/fs/cgroup/memory.pressure)');
});

test('three episodes within a minute are each written as they start and stop, not held back', () => {
  const s = setup();
  // Sheddable work shed for 5 s every 20 s: below the level (0.8) at which normal work is shed.
  for (let episode = 0; episode < 3; episode++) {
    s.set(0.6);
    s.run(1500);
    assert.equal(s.lines, ['admission: shedding sheddable requests started: pressure level 0.60; overload 0.60 from cpu 60.0% of 2 cores (/proc/stat)'], `episode ${episode + 1} start`);
    s.lines.length = 0;
    s.run(3500);
    s.set(0);
    s.run(1500);
    assert.equal(s.lines, ['admission: shedding sheddable requests stopped: pressure level 0.00'], `episode ${episode + 1} stop`);
    s.lines.length = 0;
    s.run(13_500);
  }
});

test('a flapping signal writes six lines as it happens, then about one a minute per priority, and the state once that minute is over', () => {
  const s = setup();
  // Overload flips every 2 s for 5 minutes: sheddable work is shed and admitted again 150 times.
  for (let i = 0; i < 150; i++) {
    s.set(i % 2 === 0 ? 1 : 0);
    s.run(2000);
  }
  assert.not.ok(s.lines.some((l) => /shedding (normal|critical)/.test(l)), 'the others never shed for long enough to escalate');
  const sheddable = s.lines.filter((l) => l.includes('shedding sheddable'));
  // Three starts and stops as they happen, then one a minute: at most six plus one a minute.
  assert.ok(sheddable.length <= 6 + 5, `${sheddable.length} lines in 5 minutes:\n${sheddable.join('\n')}`);
  assert.ok(sheddable.length >= 6 + 4, `one a minute still tells it goes on:\n${sheddable.join('\n')}`);
  for (const [i, line] of sheddable.slice(0, 6).entries()) {
    assert.match(line, i % 2 === 0 ? /^admission: shedding sheddable requests started: pressure level 1\.00/ : /^admission: shedding sheddable requests stopped: pressure level 0\.00$/);
  }
  // Each later line counts the changes since the one before it.
  for (const line of sheddable.slice(6)) assert.match(line, /\((\d+) changes in the last (5\d|60) s, logged about once a minute\)/);
  const counted = sheddable.slice(6).reduce((n, l) => n + Number(/\((\d+) changes/.exec(l)![1]), 6);
  s.lines.length = 0;
  // The flapping ends with shedding off; the line saying so comes once the minute is over.
  s.run(ADMISSION_LOG_INTERVAL_MS);
  const last = s.lines.filter((l) => l.includes('shedding sheddable'));
  assert.is(last.length, 1, s.lines.join('\n'));
  assert.match(last[0]!, /shedding sheddable requests off \(\d+ changes in the last \d+ s, logged about once a minute\): pressure level 0\.00$/);
  assert.is(counted + Number(/\((\d+) changes/.exec(last[0]!)![1]), 150, 'every change is counted in some line');
});

test.run();
