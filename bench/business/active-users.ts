/**
 * How far the active-user estimate is from the truth once the user table is full:
 *   npm run bench:active-users
 * For each count of distinct users, 100 runs with different names go through the business engine
 * (a table of 10,000 users, so every count here is estimated) and the relative errors of
 * active_users_last_hour are summarised: mean (bias), standard deviation and the largest.
 */
import { BusinessMetrics } from '../../src/core/business/index.js';
import { HLL_RELATIVE_STANDARD_ERROR } from '../../src/core/business/hyperloglog.js';
import { MetricsEngine } from '../../src/core/metrics/index.js';

const RUNS = 100;
const COUNTS = [20_000, 100_000];

console.log(`stated relative standard error ${(100 * HLL_RELATIVE_STANDARD_ERROR).toFixed(3)}%, ${RUNS} runs each`);
for (const distinct of COUNTS) {
  const errors: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const business = new BusinessMetrics({ metrics: new MetricsEngine({ defaultMetrics: false }) });
    for (let i = 0; i < distinct; i += 10_000) {
      const n = Math.min(10_000, distinct - i);
      business.ingest(Array.from({ length: n }, (_, j) => ({ operation: 'get_object' as const, bucket: 'b', user: `run${run}-user${i + j}`, status: 200, bytesIn: 0, bytesOut: 0 })));
    }
    errors.push(business.report().userActivity.activeUsersLastHour / distinct - 1);
  }
  const mean = errors.reduce((a, b) => a + b, 0) / RUNS;
  const sd = Math.sqrt(errors.reduce((a, b) => a + (b - mean) ** 2, 0) / RUNS);
  const worst = Math.max(...errors.map(Math.abs));
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  console.log(`${distinct.toLocaleString('en-US')} users: mean ${pct(mean)}, standard deviation ${pct(sd)}, largest ${pct(worst)}`);
}
