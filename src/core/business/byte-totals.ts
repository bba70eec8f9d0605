/**
 * Byte totals since start, as the proto's uint64 fields carry them. Bigints, because a double stops
 * counting single bytes past 2^53 (8 PiB, days of uptime for a busy gateway). Should a total ever
 * reach 2^64 - 1, it stays there (saturates) rather than wrapping to a small figure.
 */
export const MAX_BYTE_TOTAL = 2n ** 64n - 1n;

/** `total + bytes`, kept within 0..2^64 - 1. */
export function addBytes(total: bigint, bytes: number | bigint): bigint {
  return clampedSum(total, bytes, 0n);
}

/**
 * `level + bytes` for a level relative to a base not known yet, which may be below zero; kept
 * within -(2^64 - 1)..2^64 - 1, so that it stays as bounded as a total.
 */
export function addRelativeBytes(level: bigint, bytes: number | bigint): bigint {
  return clampedSum(level, bytes, -MAX_BYTE_TOTAL);
}

function clampedSum(level: bigint, bytes: number | bigint, floor: bigint): bigint {
  const sum = level + BigInt(bytes);
  return sum > MAX_BYTE_TOTAL ? MAX_BYTE_TOTAL : sum < floor ? floor : sum;
}
