/**
 * Seeded random streams. Each seed yields independent streams (arrivals, service times,
 * priorities) so every controller meets the same n-th request with the same service time.
 */

/** Mixes a seed and a stream number into a well-spread 32-bit state (splitmix-style finaliser). */
function mix(seed: number, stream: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: small, fast, and good enough for simulation noise. */
export class Rng {
  private state: number;
  private spareNormal: number | undefined;

  constructor(seed: number, stream = 0) {
    this.state = mix(seed, stream);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in (0, 1], safe for logarithms. */
  nextOpen(): number {
    return 1 - this.next();
  }

  /** Standard normal by Box–Muller, using both values of each pair. */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(this.nextOpen()));
    const theta = 2 * Math.PI * this.next();
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Exponential with mean 1. */
  exponential(): number {
    return -Math.log(this.nextOpen());
  }
}

export const STREAM_ARRIVALS = 1;
export const STREAM_SERVICE = 2;
export const STREAM_PRIORITY = 3;
