/**
 * pprof integers are int64/uint64 on the wire; pprof-format hands them back as number or, past
 * 32 bits, as an unsigned bigint. These helpers turn them into the values the proto means.
 */
export type Numeric = number | bigint;

const TWO_POW_63 = 2n ** 63n;
const TWO_POW_64 = 2n ** 64n;

/** An int64 field (sample values, time, period) as a signed JS number. */
export function int64(value: Numeric): number {
  if (typeof value === 'number') return value;
  return Number(value >= TWO_POW_63 ? value - TWO_POW_64 : value);
}

/** A uint64 field (ids, indexes, addresses) as an exact map key. */
export function uint64Key(value: Numeric): string {
  return BigInt(value).toString();
}

/** A uint64 field that must fit an array index or small count. */
export function uint64(value: Numeric): number {
  return typeof value === 'number' ? value : Number(value);
}

/** An int64 field as an exact signed bigint, for nanosecond timestamps past 2^53. */
export function int64Big(value: Numeric): bigint {
  const big = BigInt(value);
  return big >= TWO_POW_63 ? big - TWO_POW_64 : big;
}
