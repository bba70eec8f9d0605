/**
 * process_cpu_seconds_total and its user and system parts as the process's CPU time since it
 * started, as /proc/<pid>/stat and GetProfile count it. prom-client's own counters count from their
 * registration, so they leave out the CPU spent starting the service (about half a second).
 */
import { Counter, type Registry } from 'prom-client';

/** Names and help as prom-client's, which these replace. */
const USER = { name: 'process_cpu_user_seconds_total', help: 'Total user CPU time spent in seconds.' };
const SYSTEM = { name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.' };
const TOTAL = { name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.' };

/** Replaces prom-client's CPU counters in a registry that `collectDefaultMetrics` filled. */
export function registerProcessCpu(registry: Registry, cpuUsage: () => NodeJS.CpuUsage = process.cpuUsage): void {
  for (const { name } of [USER, SYSTEM, TOTAL]) registry.removeSingleMetric(name);
  const set = (counter: Counter, micros: number) => {
    counter.reset();
    counter.inc(micros / 1e6);
  };
  // Registered first, so a scrape collects it first: one reading sets all three, and the total is
  // always the sum of its parts (as in prom-client).
  const user: Counter = new Counter({
    ...USER,
    registers: [registry],
    collect() {
      const usage = cpuUsage();
      set(user, usage.user);
      set(system, usage.system);
      set(total, usage.user + usage.system);
    },
  });
  const system = new Counter({ ...SYSTEM, registers: [registry] });
  const total = new Counter({ ...TOTAL, registers: [registry] });
}
