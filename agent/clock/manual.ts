import type { ClockStamp } from '../../drivers/reading.js';
import type { Clock } from './index.js';

/**
 * A clock that moves only when told: scenario tests run an hour of alarm logic in milliseconds, exactly.
 * Wall time starts at `wallStart` and advances with monotonic time unless set on its own (a clock jump).
 */
export class ManualClock implements Clock {
  private mono = 0;
  private wallOffset: number;
  synced: boolean;

  constructor(options: { wallStart?: number; synced?: boolean } = {}) {
    this.wallOffset = options.wallStart ?? Date.UTC(2026, 0, 1);
    this.synced = options.synced ?? true;
  }

  now(): number {
    return this.mono;
  }

  stamp(): ClockStamp {
    return { wallTs: this.wallOffset + this.mono, monoTs: this.mono, clockSynced: this.synced };
  }

  advance(ms: number): void {
    if (ms < 0) throw new Error('monotonic time does not go back');
    this.mono += ms;
  }

  /** Sets the wall clock (as NTP would) without touching monotonic time. */
  setWall(wallTs: number): void {
    this.wallOffset = wallTs - this.mono;
  }

  close(): void {}
}
