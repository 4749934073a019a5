/**
 * How late the silence between transactions may end. Never early: a request sent before t3.5 has passed can merge
 * with the frame before it. Late costs only throughput, and only matters on a line that has no time to spare.
 */

/** A line whose work has not paused for this long is saturated: there, every fraction of a character counts. */
export const SATURATED_AFTER_MS = 1000;

/**
 * On a line with time to spare the guard may end this late. Node timers fire up to about a millisecond early or
 * late, so with this much room a timer alone reaches the deadline: no spinning on the event loop for the last
 * fraction of a millisecond, which on a quiet 1 Hz site was a tenth of the agent's CPU. At most ~2 ms per
 * transaction, on a line that is idle part of every second anyway.
 */
export const RELAXED_TOLERANCE_MS = 2;

/**
 * @param charMs one character on the wire (0 when the line is unknown)
 * @param busyForMs how long the line has had work without a pause
 */
export function guardLateToleranceMs(charMs: number, busyForMs: number): number {
  // Overshooting by up to half a character costs at most ~2 % of a saturated line's throughput and saves
  // spinning for the last fraction of a millisecond at 9600 baud (1.1 ms per character).
  const tight = charMs / 2;
  return busyForMs >= SATURATED_AFTER_MS ? tight : Math.max(tight, RELAXED_TOLERANCE_MS);
}
