/**
 * prom-client 15's sliding window of summary quantiles starts its ring of age buckets as one
 * t-digest repeated (`Array(ageBuckets).fill(new TDigest())`), and pushes each observation into
 * every bucket: until each bucket has been retired once (the window's full 10 minutes), an
 * observation counts once per bucket still sharing that digest, so the first 2 minutes weigh 5
 * times, the next 4 times, and a new series' quantiles lag what it observes (p50 0.80 where the
 * window's values give 1.00, 4.5 minutes after a first batch). Prometheus's Go client keeps
 * distinct buckets; so does this, by giving a ring distinct digests before its first observation.
 */
import { createRequire } from 'node:module';

interface Digest {
  size(): number;
}

interface TimeWindowQuantiles {
  ringBuffer: Digest[];
  push(value: number): void;
}

const require = createRequire(import.meta.url);
// The module prom-client's summary requires: the same instance, from Node's module cache.
const TimeWindowQuantilesClass = require('prom-client/lib/timeWindowQuantiles.js') as { prototype: TimeWindowQuantiles };

const separated = new WeakSet<TimeWindowQuantiles>();

/** Replaces each repeated digest of a ring that holds no observation yet with one of its own. */
function separateBuckets(window: TimeWindowQuantiles): void {
  separated.add(window);
  const ring = window.ringBuffer;
  // Left alone if prom-client's internals are not what this was written for (an upgrade fixes it or the test says so).
  if (!Array.isArray(ring)) return;
  const Digest = ring[0]?.constructor as (new () => Digest) | undefined;
  if (Digest === undefined || ring.some((bucket) => bucket.size() > 0)) return;
  const seen = new Set<Digest>();
  for (let i = 0; i < ring.length; i++) {
    if (seen.has(ring[i]!)) ring[i] = new Digest();
    seen.add(ring[i]!);
  }
}

const push = TimeWindowQuantilesClass.prototype.push;
TimeWindowQuantilesClass.prototype.push = function pushIntoDistinctBuckets(this: TimeWindowQuantiles, value: number): void {
  if (!separated.has(this)) separateBuckets(this);
  push.call(this, value);
};
