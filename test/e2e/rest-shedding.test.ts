/**
 * Load shedding as a client sees it, on a real server whose /proc is a fixture tree the test
 * drives (RS3GW_FS_ROOT): a host saturated by background jobs at a positive nice value sheds
 * nothing, nor do the host's stalls seen from a v1 container; a host whose tasks wait for CPU sheds
 * sheddable work and still admits critical work; a flood of Acquires the service refuses does not
 * make it refuse critical ones.
 */
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, type RunningServer } from '../support/server.js';
import { API, Rest, eventually, startRestServer, type Json } from './support/rest-http.js';

function fixture(name: string): string {
  const root = mkdtempSync(join(tmpdir(), 'rs3gw-shed-'));
  cpSync(join(REPO_ROOT, `test/fixtures/procfs/${name}`), root, { recursive: true });
  return root;
}

const acquire = (rest: Rest, priority: string): Promise<Json> => rest.postOk(`${API}/resources/acquire`, { priority: `PRIORITY_${priority}` });

/** Acquires one permit of each priority (releasing those admitted); returns which were admitted, and why not. */
async function tryAll(rest: Rest): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of ['CRITICAL', 'NORMAL', 'SHEDDABLE']) {
    const a = await acquire(rest, p);
    out[p] = a.admitted ? 'admitted' : a.reason;
    if (a.admitted) await rest.postOk(`${API}/resources/release`, { permit_id: a.permit_id, outcome: 'REQUEST_OUTCOME_SUCCESS' });
  }
  return out;
}

async function withServer(
  root: string,
  body: (rest: Rest, server: RunningServer) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const server = await startRestServer({ RS3GW_FS_ROOT: root, ...env });
  try {
    await body(new Rest(server.url), server);
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

test('a host saturated by niced background jobs sheds nothing; the same load at default priority sheds sheddable work only', async () => {
  // A kernel without PSI (the fixture has none): the CPU figure is /proc/stat's.
  const root = fixture('cgroup-v2-unlimited');
  // Every tick of 4 CPUs busy, at nice 19 or at nice 0, advancing 100 ticks per CPU every 100 ms.
  let ticks = { user: 300000, nice: 0, idle: 600000 };
  let busyAs: 'user' | 'nice' = 'nice';
  const hog = setInterval(() => {
    ticks = { ...ticks, [busyAs]: ticks[busyAs] + 400 };
    // Whole or not at all, as the kernel's file reads: written in place, the service could read it
    // empty between the truncation and the write (and refuse to start on it).
    const stat = join(root, 'proc/stat');
    writeFileSync(`${stat}.next`, `cpu  ${ticks.user} ${ticks.nice} 100000 ${ticks.idle} 0 0 10 0 0 0\n`);
    renameSync(`${stat}.next`, stat);
  }, 100);
  try {
    await withServer(root, async (rest) => {
      await sleep(2500); // two samples of the saturated host
      const niced = await rest.getOk(`${API}/resources`);
      assert.ok(niced.cpu_usage < 0.05, `niced time counts as idle: cpu ${niced.cpu_usage}`);
      assert.equal(await tryAll(rest), { CRITICAL: 'admitted', NORMAL: 'admitted', SHEDDABLE: 'admitted' });

      busyAs = 'user';
      const shed = await eventually('sheddable work to be shed', async () => {
        const r = await tryAll(rest);
        return r.SHEDDABLE === 'admitted' ? undefined : r;
      });
      assert.match(shed.SHEDDABLE, /^shedding sheddable traffic: pressure level 1\.00$/);
      assert.equal([shed.CRITICAL, shed.NORMAL], ['admitted', 'admitted'], 'normal and critical wait their turn');
    });
  } finally {
    clearInterval(hog);
  }
});

test("in a Docker container on a cgroup v1 or hybrid host, the host's stalls (PSI cpu some 55 %, memory full 20 %) are reported, not acted on: no memory pressure, nothing shed", async () => {
  // Docker's v1 layout with --cgroupns=host: the container's own subtree is mounted at /sys/fs/cgroup/<controller>.
  await withServer(fixture('cgroup-v1-docker'), async (rest, server) => {
    await sleep(1500); // a periodic sample after start-up
    const status = await rest.getOk(`${API}/resources`);
    assert.match(status.pressure.psi.source, /^\/proc\/pressure \(host-wide, .* in the v1 cgroup \/docker\/abc .*: reported, not acted on\)$/);
    assert.equal([status.is_under_memory_pressure, status.should_shed_load, status.pressure.overload], [false, false, 0]);
    assert.equal(await tryAll(rest), { CRITICAL: 'admitted', NORMAL: 'admitted', SHEDDABLE: 'admitted' });
    assert.not.match(server.output(), /admission: (memory pressure|shedding)/);
  });
});

/** A container whose tasks wait for CPU `percent` of the time (PSI cpu some, every average). */
function waitingForCpu(percent: number): string {
  const root = fixture('cgroup-v2-limited');
  const p = percent.toFixed(2);
  writeFileSync(
    join(root, 'sys/fs/cgroup/system.slice/rs3gw.service/cpu.pressure'),
    `some avg10=${p} avg60=${p} avg300=${p} total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`,
  );
  return root;
}

test('RS3GW_PSI_THRESHOLD sets how long tasks may wait for CPU before shedding starts', async () => {
  await withServer(
    waitingForCpu(75),
    async (rest) => {
      await sleep(1500); // a periodic sample after start-up
      const status = await rest.getOk(`${API}/resources`);
      assert.equal(await tryAll(rest), { CRITICAL: 'admitted', NORMAL: 'admitted', SHEDDABLE: 'admitted' }, `overload ${status.pressure.overload}`);
    },
    { RS3GW_PSI_THRESHOLD: '80' },
  );
  await withServer(waitingForCpu(75), async (rest) => {
    await eventually('sheddable work to be shed at the default threshold', async () => ((await acquire(rest, 'SHEDDABLE')).admitted ? undefined : true));
  });
});

test('a flood of refused sheddable Acquires leaves critical ones admitted', async () => {
  // Tasks of the container waiting for CPU 75 % of the time: sheddable work is shed.
  const root = waitingForCpu(75);
  await withServer(root, async (rest, server) => {
    await eventually('sheddable work to be shed', async () => ((await acquire(rest, 'SHEDDABLE')).admitted ? undefined : true));
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const url = new URL(`${server.url}${API}/resources/acquire`);
    const body = JSON.stringify({ priority: 'PRIORITY_SHEDDABLE' });
    let flooding = true;
    let refused = 0;
    const one = () =>
      new Promise<void>((resolve, reject) => {
        const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => {
            refused += 1;
            resolve();
          });
        });
        req.on('error', reject);
        req.end(body);
      });
    const flood = Array.from({ length: 64 }, async () => {
      while (flooding) await one();
    });
    const critical: string[] = [];
    let busiest = 0;
    try {
      for (let i = 0; i < 10; i++) {
        await sleep(500);
        const a = await acquire(rest, 'CRITICAL');
        critical.push(a.admitted ? 'admitted' : a.reason);
        if (a.admitted) await rest.postOk(`${API}/resources/release`, { permit_id: a.permit_id, outcome: 'REQUEST_OUTCOME_SUCCESS' });
        busiest = Math.max(busiest, (await rest.getOk(`${API}/resources`)).pressure.event_loop.utilization);
      }
    } finally {
      flooding = false;
      await Promise.all(flood);
      agent.destroy();
    }
    assert.ok(refused > 1000, `the flood: ${refused} refused Acquires`);
    assert.equal(critical, Array(10).fill('admitted'), `event loop utilisation up to ${busiest}`);
  });
});

test('a CPU quota throttled in most of its periods sheds sheddable work, and GetResources shows the throttling that caused it', async () => {
  const root = fixture('cgroup-v2-limited');
  const cpuStat = join(root, 'sys/fs/cgroup/system.slice/cpu.stat');
  // Nine periods of ten throttled, ten periods (of the fixture's quota) every 100 ms.
  let periods = 1000;
  let throttled = 10;
  const quota = setInterval(() => {
    periods += 10;
    throttled += 9;
    // Written aside and renamed into place: a sample never reads a half-written file.
    writeFileSync(`${cpuStat}.next`, `usage_usec 9000000\nuser_usec 7000000\nsystem_usec 2000000\nnr_periods ${periods}\nnr_throttled ${throttled}\nthrottled_usec 50000\n`);
    renameSync(`${cpuStat}.next`, cpuStat);
  }, 100);
  try {
    await withServer(root, async (rest) => {
      const shed = await eventually('sheddable work to be shed', async () => {
        const r = await tryAll(rest);
        return r.SHEDDABLE === 'admitted' ? undefined : r;
      });
      assert.match(shed.SHEDDABLE, /^shedding sheddable traffic: pressure level /);
      const { cpu } = (await rest.getOk(`${API}/resources`)).pressure;
      assert.ok(Math.abs(cpu.throttled_percent - 90) < 5, `throttled ${cpu.throttled_percent}`);
      assert.match(cpu.throttling_source, /^cgroup2:.*\/system\.slice\/cpu\.stat nr_throttled\/nr_periods$/);
    });
  } finally {
    clearInterval(quota);
  }
});

test('a kernel file that turns unreadable leaves the other readings deciding: memory back to 50 % is seen, the CPU reading is named unavailable and logged once', async () => {
  const root = fixture('cgroup-v2-limited');
  const GiB = 1024 ** 3;
  const MiB = 1024 ** 2;
  /** Memory in use as a share of the fixture's memory.high (1.5 GiB; 256 MiB of memory.current is inactive_file). */
  const current = join(root, 'sys/fs/cgroup/system.slice/rs3gw.service/memory.current');
  // Replaced whole, as the kernel's reads are: written in place it could be read empty.
  const setMemory = (share: number) => {
    writeFileSync(`${current}.next`, `${Math.round(share * 1.5 * GiB) + 256 * MiB}\n`);
    renameSync(`${current}.next`, current);
  };
  setMemory(0.99);
  await withServer(root, async (rest, server) => {
    await eventually('no memory headroom', async () => {
      const h = await rest.getOk(`${API}/health`);
      return h.status === 'HEALTH_STATUS_UNHEALTHY' && h.reasons.includes('memory 99.0% of its limit') ? true : undefined;
    });
    assert.is((await acquire(rest, 'SHEDDABLE')).admitted, false);

    // The CPU quota's counters become unreadable (EISDIR), then memory falls to 50 %.
    const cpuStat = join(root, 'sys/fs/cgroup/system.slice/cpu.stat');
    rmSync(cpuStat);
    mkdirSync(cpuStat);
    setMemory(0.5);
    const h = await eventually('the verdict to follow memory', async () => {
      const r = await rest.getOk(`${API}/health`);
      return r.status === 'HEALTH_STATUS_UNHEALTHY' ? undefined : r;
    });
    assert.is(h.status, 'HEALTH_STATUS_HEALTHY', h.reasons.join('; '));
    assert.ok(
      h.unavailable.includes('resources.pressure.cpu: cannot read /sys/fs/cgroup/system.slice/cpu.stat: EISDIR'),
      h.unavailable.join('; '),
    );
    assert.is(h.resources.pressure.cpu, undefined);
    assert.ok(Math.abs(h.resources.pressure.memory.utilization - 0.5) < 1e-6);
    assert.is((await acquire(rest, 'SHEDDABLE')).admitted, true);
    await sleep(2500); // more samples, all failing the same way: still one line
    assert.is(server.output().match(/pressure: the cpu reading fails/g)?.length, 1, server.output());

    // PSI unread is not a kernel without PSI: GetResources says why it is missing.
    const cpuPressure = join(root, 'sys/fs/cgroup/system.slice/rs3gw.service/cpu.pressure');
    rmSync(cpuPressure);
    mkdirSync(cpuPressure);
    const psi = await eventually('PSI named unreadable', async () => {
      const r = await rest.getOk(`${API}/resources`);
      return r.pressure.psi.available === false ? r.pressure.psi : undefined;
    });
    assert.match(psi.source, /^unreadable in the last sample: cannot read \/sys\/fs\/cgroup\/system\.slice\/rs3gw\.service\/cpu\.pressure: EISDIR$/);
  });
});

test.run();
