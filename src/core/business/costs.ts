/**
 * Cost estimate from configurable unit prices (USD). GiB = 2^30 bytes, a month 30 days.
 * - storageUsdPerMonth: current stored bytes kept for one month (a rate, not spending).
 * - transferOutUsd: bytes sent to clients since the service started.
 * - requestsUsd: requests since the service started.
 * - totalUsd: spending since the service started: the storage accrued (GiB-months held since start,
 *   storage-accrual.ts) plus transferOutUsd and requestsUsd. Not the sum of the three above: a
 *   monthly rate added to amounts so far is neither a monthly bill nor spending so far.
 */
import { invalidArgument } from '../errors.js';

export interface Prices {
  storageUsdPerGibMonth: number;
  transferOutUsdPerGib: number;
  requestsUsdPerThousand: number;
}

const DEFAULT_PRICES: Prices = {
  storageUsdPerGibMonth: 0.023,
  transferOutUsdPerGib: 0.09,
  requestsUsdPerThousand: 0.0004,
};

export interface CostEstimate {
  storageUsdPerMonth: number;
  transferOutUsd: number;
  requestsUsd: number;
  totalUsd: number;
  prices: Prices;
}

const GIB = 2 ** 30;

/**
 * Highest price taken per unit (GiB-month, GiB out, 1,000 requests): far above any real one, and
 * low enough that an estimate over the largest totals (2^64 bytes or requests) stays finite.
 */
export const MAX_PRICE_USD = 1_000_000;

export function checkPrices(prices: Partial<Prices> = {}): Prices {
  const merged = { ...DEFAULT_PRICES, ...prices };
  for (const [name, value] of Object.entries(merged)) {
    if (typeof value !== 'number' || !(value >= 0 && value <= MAX_PRICE_USD)) {
      throw invalidArgument(`prices.${name}`, `must be a number from 0 to ${MAX_PRICE_USD}`);
    }
  }
  return merged;
}

export interface Usage {
  storedBytes: number;
  /** Storage held since start, in byte-months. */
  storedByteMonths: number;
  bytesOut: number;
  requests: number;
}

export function estimateCosts(prices: Prices, usage: Usage): CostEstimate {
  const storageUsdPerMonth = (usage.storedBytes / GIB) * prices.storageUsdPerGibMonth;
  const transferOutUsd = (usage.bytesOut / GIB) * prices.transferOutUsdPerGib;
  const requestsUsd = (usage.requests / 1000) * prices.requestsUsdPerThousand;
  return {
    storageUsdPerMonth,
    transferOutUsd,
    requestsUsd,
    totalUsd: (usage.storedByteMonths / GIB) * prices.storageUsdPerGibMonth + transferOutUsd + requestsUsd,
    prices: { ...prices },
  };
}
