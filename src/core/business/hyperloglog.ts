/**
 * HyperLogLog distinct counting (Flajolet, Fusy, Gandouet, Meunier 2007): 2^p one-byte registers
 * each keep the highest rank (leading zeros + 1) of the hashes routed to them; sketches merge by
 * taking each register's maximum, so one sketch per time slot rolls a window. The estimate is
 * Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
 * 2017), which needs no bias tables and has no jump between small and large counts. Its relative
 * standard error is 1.04 / sqrt(2^p).
 */

/** Index bits: 4,096 registers, 4 KiB a sketch, relative standard error 1.04 / 64 = 1.625%. */
const HLL_PRECISION = 12;
export const HLL_REGISTERS = 1 << HLL_PRECISION;
export const HLL_RELATIVE_STANDARD_ERROR = 1.04 / Math.sqrt(HLL_REGISTERS);
/** Hash bits left for the rank: ranks are 0 (empty) .. Q + 1. */
const Q = 32 - HLL_PRECISION;

/**
 * MurmurHash3_x86_32 (Appleby) of the string's UTF-16 code units, two to a block: a well-mixed
 * 32-bit hash, which HyperLogLog needs, without encoding the string first.
 */
export function murmur3(text: string, seed = 0): number {
  let h = seed >>> 0;
  const n = text.length;
  const mixK = (k: number) => Math.imul(rotl(Math.imul(k, 0xcc9e2d51), 15), 0x1b873593);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    h ^= mixK(text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16));
    h = (Math.imul(rotl(h, 13), 5) + 0xe6546b64) | 0;
  }
  if (i < n) h ^= mixK(text.charCodeAt(i));
  h ^= n * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

export class HyperLogLog {
  readonly registers = new Uint8Array(HLL_REGISTERS);

  add(hash: number): void {
    const index = hash >>> Q;
    const rest = (hash << HLL_PRECISION) >>> 0;
    const rank = rest === 0 ? Q + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[index]) this.registers[index] = rank;
  }

  /** Takes each register's maximum with `other`'s: the sketch of the union. */
  merge(other: HyperLogLog): void {
    const a = this.registers;
    const b = other.registers;
    for (let j = 0; j < HLL_REGISTERS; j++) if (b[j] > a[j]) a[j] = b[j];
  }

  clear(): void {
    this.registers.fill(0);
  }

  /** Ertl's improved estimator (2017, algorithm 6) over the register histogram. */
  estimate(): number {
    const m = HLL_REGISTERS;
    const counts = new Float64Array(Q + 2);
    for (let j = 0; j < m; j++) counts[this.registers[j]] += 1;
    let z = m * tau(1 - counts[Q + 1] / m);
    for (let k = Q; k >= 1; k--) z = 0.5 * (z + counts[k]);
    z += m * sigma(counts[0] / m);
    return (m * m) / (2 * Math.LN2) / z;
  }
}

function sigma(x: number): number {
  if (x === 1) return Number.POSITIVE_INFINITY;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const previous = z;
    z += x * y;
    y += y;
    if (z === previous) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
    if (z === previous) return z / 3;
  }
}
