/**
 * The part of V8's heap limit that belongs to the old generation. V8's `heap_size_limit` is the old
 * generation's limit plus the young generation's reservation (three semi-spaces), and the process
 * dies when the old generation is full, however much of the young reservation is free: with
 * `--max-old-space-size=40`, heap_size_limit is 88 MiB and the process dies at about 40 MiB used.
 */

const MiB = 2 ** 20;
/** Semi-space bounds and old-generation-to-semi-space ratios of a 64-bit V8 without pointer compression (Node's builds). */
const MIN_SEMI_SPACE = 1 * MiB;
const MAX_SEMI_SPACE = 16 * MiB;
const LOW_MEMORY_OLD_GENERATION = 256 * MiB;
const SEMI_SPACE_RATIO = 128;
const LOW_MEMORY_SEMI_SPACE_RATIO = 256;
/** The young generation reserves two semi-spaces and a large-object space of the same size. */
const SEMI_SPACES_PER_YOUNG_GENERATION = 3;

/**
 * A V8 size flag (MiB) as V8 received it: NODE_OPTIONS first, then the command line, the last one
 * winning, spelt with `-` or `_`; undefined when absent or 0 (V8's "not set"). Node takes quotes in
 * NODE_OPTIONS (`--max-old-space-size="40"`) and refuses a value that is no whole number.
 */
export function v8FlagMiB(flag: 'max-old-space-size' | 'max-semi-space-size', execArgv: readonly string[], nodeOptions = ''): number | undefined {
  const pattern = new RegExp(`^--${flag.replaceAll('-', '[-_]')}=(\\d+)$`);
  let mib: number | undefined;
  for (const arg of [...nodeOptions.replaceAll('"', '').split(/\s+/), ...execArgv]) {
    const m = pattern.exec(arg);
    if (m) mib = Number(m[1]);
  }
  return mib === 0 ? undefined : mib;
}

/** The semi-space V8 gives an old generation it sized itself, rounded up to a power of two as V8 does. */
function semiSpaceFor(oldGenerationBytes: number): number {
  const ratio = oldGenerationBytes <= LOW_MEMORY_OLD_GENERATION ? LOW_MEMORY_SEMI_SPACE_RATIO : SEMI_SPACE_RATIO;
  const semi = Math.min(MAX_SEMI_SPACE, Math.max(MIN_SEMI_SPACE, oldGenerationBytes / ratio));
  return 2 ** Math.ceil(Math.log2(semi));
}

/**
 * Bytes of `heapSizeLimit` reserved for the young generation. With --max-old-space-size the rest is
 * exactly that flag. Without it V8 sized the heap itself (from the memory Node reports): an old
 * generation O gets a semi-space of O/128 (O/256 up to 256 MiB), within 1..16 MiB and rounded up to
 * a power of two, and the limit is O plus three of them; so the young generation is the largest
 * three semi-spaces whose old generation (the rest of the limit) would be given that much. This is
 * V8 11.3's rule (Node 20, 64-bit), checked against the heaps the test lists; --max-heap-size of
 * 263 to 268 MiB, which V8 splits before rounding, reads 6 MiB where V8 reserves 12.
 */
export function youngGenerationBytes(heapSizeLimit: number, oldSpaceMiB?: number, semiSpaceMiB?: number): number {
  if (oldSpaceMiB !== undefined) return Math.max(0, heapSizeLimit - oldSpaceMiB * MiB);
  // --max-semi-space-size alone: three of it, rounded up to a power of two (5 reserves 3 x 8 MiB).
  if (semiSpaceMiB !== undefined) return SEMI_SPACES_PER_YOUNG_GENERATION * 2 ** Math.ceil(Math.log2(semiSpaceMiB)) * MiB;
  for (let semi = MAX_SEMI_SPACE; semi > MIN_SEMI_SPACE; semi /= 2) {
    if (semiSpaceFor(heapSizeLimit - SEMI_SPACES_PER_YOUNG_GENERATION * semi) >= semi) return SEMI_SPACES_PER_YOUNG_GENERATION * semi;
  }
  return SEMI_SPACES_PER_YOUNG_GENERATION * MIN_SEMI_SPACE;
}
