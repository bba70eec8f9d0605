/**
 * Cost estimate from configurable unit prices (USD). GiB = 2^30 bytes.
 * - storagePerMonth: current stored bytes kept for one month.
 * - transferOut: bytes sent to clients since the service started.
 * - requests: requests since the service started.
 * - total: the sum of the three (one month of storage at today's size plus the usage charges so far).
 */
import { invalidArgument } from '../errors.js';

export interface Prices {
  storagePerGiBMonth: number;
  transferOutPerGiB: number;
  per1000Requests: number;
}

export const DEFAULT_PRICES: Prices = {
  storagePerGiBMonth: 0.023,
  transferOutPerGiB: 0.09,
  per1000Requests: 0.0004,
};

export interface CostEstimate {
  currency: 'USD';
  storagePerMonth: number;
  transferOut: number;
  requests: number;
  total: number;
  prices: Prices;
}

const GIB = 2 ** 30;

export function checkPrices(prices: Partial<Prices> = {}): Prices {
  const merged = { ...DEFAULT_PRICES, ...prices };
  for (const [name, value] of Object.entries(merged)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalidArgument(`prices.${name}`, 'must be a finite number >= 0');
    }
  }
  return merged;
}

export function estimateCosts(prices: Prices, usage: { storedBytes: number; bytesOut: number; requests: number }): CostEstimate {
  const storagePerMonth = (usage.storedBytes / GIB) * prices.storagePerGiBMonth;
  const transferOut = (usage.bytesOut / GIB) * prices.transferOutPerGiB;
  const requests = (usage.requests / 1000) * prices.per1000Requests;
  return {
    currency: 'USD',
    storagePerMonth,
    transferOut,
    requests,
    total: storagePerMonth + transferOut + requests,
    prices: { ...prices },
  };
}
