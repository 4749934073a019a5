import { performance } from 'node:perf_hooks';

/**
 * An idle event loop runs a setTimeout about 0.1 ms after it is due, now and then up to a millisecond early or
 * late. Timers take the whole milliseconds of a wait that fit below this slack; the remainder, under a millisecond
 * on average, is covered by polling the clock once per event-loop turn (I/O keeps being served between turns).
 * Spinning longer would burn CPU a Pi needs elsewhere; trusting timers alone would waste a fifth of a 115200 baud
 * line (t3.5 is 1.75 ms in a ~5 ms transaction).
 */
const TIMER_SLACK_MS = 0.2;

/** One re-armable alarm on the monotonic clock with sub-millisecond accuracy: setTimeout, then a short spin. */
export class PreciseAlarm {
  private deadline = 0;
  private tolerance = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private armed = false;

  constructor(private readonly onFire: () => void) {}

  get pending(): boolean {
    return this.armed;
  }

  /**
   * Fires once at `deadline` (performance.now() milliseconds), never before it; replaces any earlier arming.
   * `lateToleranceMs`: how late it may fire instead of spinning (a slow line can spare a fraction of a character).
   */
  at(deadline: number, lateToleranceMs = 0): void {
    this.cancel();
    this.deadline = deadline;
    this.tolerance = lateToleranceMs;
    this.armed = true;
    this.step();
  }

  cancel(): void {
    this.armed = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  // One bound function for the life of the alarm: arming it allocates no closure.
  private readonly step = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    if (!this.armed) return;
    const remaining = this.deadline - performance.now();
    if (remaining <= 0) {
      this.armed = false;
      this.onFire();
      return;
    }
    const timerMs = Math.floor(remaining + this.tolerance - TIMER_SLACK_MS);
    if (timerMs >= 1) this.timer = setTimeout(this.step, timerMs);
    else this.immediate = setImmediate(this.step);
  };
}
