/**
 * The queue bound (beyond the busy servers) that serves most when a longer queue both saves idle
 * time and slows the service: servers idle when the queue behind them runs dry, and with
 * contention every request in flight slows the service. Idle time and mean inflight come from
 * the M/M/c/K chain (c busy servers, c + q places, arrivals r times the completions of c busy
 * servers): exact for Poisson arrivals and exponential service, the right order elsewhere.
 * Throughput is then (1 - idle share) / (1 + slowdown x mean inflight). The queue grows from
 * `from` while that rises and the servers still idle more than `idleTarget` of the time (beyond
 * that a longer queue only adds wait), up to `to`; `from` is returned when no longer one pays.
 */
export function bestQueue(
  servers: number,
  ratio: number,
  slowdownPerRequest: number,
  idleTarget: number,
  from: number,
  to: number,
): number {
  const c = Math.max(1, Math.round(servers));
  const first = Math.max(0, Math.ceil(from));
  const last = Math.floor(to);
  if (!(ratio > 0) || last <= first) return from;
  // States below c, relative to state c: p(c - k) = prod_{j<k} (c - j) / (c r). Their sum, their
  // idle servers and their inflight; terms beyond 1e-12 of state c do not matter.
  const offered = c * ratio;
  let below = 0;
  let idle = 0;
  let inflight = 0;
  let p = 1;
  for (let n = c; n > 0; n -= 1) {
    p *= n / offered;
    if (p < 1e-12) break;
    below += p;
    idle += (c - n + 1) * p;
    inflight += (n - 1) * p;
  }
  // States c to c + q: p(c + j) = r^j, accumulated q by q, rescaled before they overflow.
  let weight = 1;
  let total = below + weight;
  let load = inflight + c * weight;
  let best = first;
  let bestRate = -Infinity;
  for (let q = 0; q <= last; q += 1) {
    if (q > 0) {
      weight *= ratio;
      total += weight;
      load += (c + q) * weight;
    }
    if (q >= first) {
      const idleShare = idle / (c * total);
      const rate = (1 - idleShare) / (1 + slowdownPerRequest * (load / total));
      // Longer stops paying once contention outweighs the idle time saved, and is not wanted once
      // the servers idle little enough: beyond that it only adds wait.
      if (q > first && rate <= bestRate) break;
      best = q;
      bestRate = rate;
      if (idleShare <= idleTarget) break;
    }
    if (total > 1e200) {
      weight /= 1e200;
      total /= 1e200;
      load /= 1e200;
      idle /= 1e200;
    }
  }
  return best > first ? best : from;
}
