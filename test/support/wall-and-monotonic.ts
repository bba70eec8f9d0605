import { FakeClock } from './fake-clock.js';

/**
 * A wall clock and a monotonic clock that run together, as a process sees them: `advance` moves
 * both; a step of the wall clock alone (NTP, an operator, a resumed VM) is `wall.advance`.
 */
export class WallAndMonotonic {
  readonly wall: FakeClock;
  readonly monotonic: FakeClock;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.wall = new FakeClock(startMs);
    this.monotonic = new FakeClock(startMs);
  }

  advance(ms: number): void {
    this.wall.advance(ms);
    this.monotonic.advance(ms);
  }
}
