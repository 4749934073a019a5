import { performance } from 'node:perf_hooks';

/**
 * Below this much time left, stop trusting timers (libuv rounds to whole milliseconds and may fire up to a
 * millisecond early or late) and poll the clock once per event-loop turn instead. I/O keeps being served
 * between turns, so the spin delays nothing; it costs at most this much CPU per wait.
 */
const SPIN_MS = 2;

/**
 * One re-armable alarm on the monotonic clock with sub-millisecond accuracy: setTimeout for the bulk of the
 * wait, then a setImmediate spin. The inter-frame silence at 115200 baud is 1.75 ms inside a ~5 ms transaction;
 * a plain setTimeout would waste a third of the line.
 */
export class PreciseAlarm {
  private deadline = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private armed = false;

  constructor(private readonly onFire: () => void) {}

  get pending(): boolean {
    return this.armed;
  }

  /** Fires once at `deadline` (performance.now() milliseconds); replaces any earlier arming. */
  at(deadline: number): void {
    this.cancel();
    this.deadline = deadline;
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
    } else if (remaining > SPIN_MS + 1) {
      this.timer = setTimeout(this.step, Math.floor(remaining - SPIN_MS));
    } else {
      this.immediate = setImmediate(this.step);
    }
  };
}
