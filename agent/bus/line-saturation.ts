/**
 * Whether a line has time to spare, and so how late the silence between transactions may end. Never early: a
 * request sent before t3.5 has passed can merge with the frame before it. Late costs only throughput, and that
 * only matters on a line that has none to spare.
 */

/** A line that has worked this long without a pause is saturated: there, every fraction of a character counts. */
export const SATURATED_AFTER_MS = 1000;

/**
 * An idle moment shorter than this (or than the guard) is not a pause in the work: a poll loop running flat out
 * takes about that long to decode one answer and queue its next request.
 */
export const MIN_PAUSE_MS = 10;

/**
 * On a line with time to spare the guard may end this late. Node timers fire up to about a millisecond early or
 * late, so with this much room a timer alone reaches the deadline: no spinning on the event loop for the last
 * fraction of a millisecond, which on a quiet 1 Hz site was a tenth of the agent's CPU. At most ~2 ms per
 * transaction, on a line that pauses every second anyway.
 */
export const RELAXED_TOLERANCE_MS = 2;

export class LineSaturation {
  private busySince: number;
  private readonly pauseMs: number;

  constructor(
    private readonly charMs: number,
    guardMs: number,
    now: number,
  ) {
    this.pauseMs = Math.max(guardMs, MIN_PAUSE_MS);
    this.busySince = now;
  }

  /** The line (re)connected: whatever it was doing before is gone. */
  restart(now: number): void {
    this.busySince = now;
  }

  /**
   * A job is queued. `idle`: nothing was on the wire or waiting; `quietSince`: when the line last fell silent.
   */
  jobQueued(now: number, idle: boolean, quietSince: number): void {
    if (idle && now - quietSince > this.pauseMs) this.busySince = now;
  }

  /** `working`: a job is on the wire or waiting. */
  saturated(now: number, working: boolean): boolean {
    return working && now - this.busySince >= SATURATED_AFTER_MS;
  }

  /** How late the guard before the next job may end. */
  guardToleranceMs(now: number): number {
    // Overshooting by up to half a character costs at most ~2 % of a saturated line's throughput and saves
    // spinning for the last fraction of a millisecond at 9600 baud (1.1 ms per character).
    const tight = this.charMs / 2;
    return this.saturated(now, true) ? tight : Math.max(tight, RELAXED_TOLERANCE_MS);
  }
}
