import type { Clock } from '../../src/core/clock.js';

/** A clock that only moves when the test moves it. */
export class FakeClock implements Clock {
  constructor(private now = Date.UTC(2026, 0, 1)) {}
  nowMs(): number {
    return this.now;
  }
  advance(ms: number): void {
    this.now += ms;
  }
  set(ms: number): void {
    this.now = ms;
  }
}
