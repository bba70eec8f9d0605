/**
 * Seeded noise-only series for the false-alarm benchmark: every value is normal behaviour, so every
 * alarm raised on them is a false alarm. Each family is a stationary process (the random walk aside)
 * of a shape service metrics take.
 */

/** Mulberry32 uniform [0, 1): small, fast, reproducible from a seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal (Box-Muller). */
export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Poisson by Knuth's product of uniforms (small rates only). */
function poisson(rand: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

/** Student t with `dof` degrees of freedom: a normal over the root of a scaled chi-square. */
function studentT(rand: () => number, dof: number): number {
  let chi2 = 0;
  for (let i = 0; i < dof; i++) {
    const z = gaussian(rand);
    chi2 += z * z;
  }
  return gaussian(rand) / Math.sqrt(chi2 / dof);
}

export interface NoiseFamily {
  name: string;
  /** The typical level of the series; a spike scenario multiplies it. */
  level: number;
  /** A fresh generator for one series: successive calls give successive values. */
  series(seed: number): () => number;
}

export const NOISE_FAMILIES: NoiseFamily[] = [
  {
    name: 'gaussian',
    level: 100,
    series: (seed) => {
      const r = prng(seed);
      return () => 100 + 5 * gaussian(r);
    },
  },
  {
    name: 'lognormal(0.6)',
    level: 50,
    series: (seed) => {
      const r = prng(seed);
      return () => 50 * Math.exp(0.6 * gaussian(r));
    },
  },
  {
    name: 'ar1(0.9)',
    level: 100,
    series: (seed) => {
      const r = prng(seed);
      let x = 0;
      return () => {
        x = 0.9 * x + gaussian(r);
        return 100 + 2 * x;
      };
    },
  },
  {
    name: 'random-walk',
    level: 1000,
    series: (seed) => {
      const r = prng(seed);
      let x = 1000;
      return () => (x += gaussian(r));
    },
  },
  {
    name: 'poisson(2)',
    level: 2,
    series: (seed) => {
      const r = prng(seed);
      return () => poisson(r, 2);
    },
  },
  {
    // Sparse counts: an error counter that reads 1 about once every 33 samples, 0 otherwise. The
    // spike scenario's "50x the level" is then 50 errors at once.
    name: 'poisson(0.03)',
    level: 1,
    series: (seed) => {
      const r = prng(seed);
      return () => poisson(r, 0.03);
    },
  },
  {
    name: 'student-t(3)',
    level: 100,
    series: (seed) => {
      const r = prng(seed);
      return () => 100 + 5 * studentT(r, 3);
    },
  },
  {
    name: 'uniform(95,105)',
    level: 100,
    series: (seed) => {
      const r = prng(seed);
      return () => 95 + 10 * r();
    },
  },
];
