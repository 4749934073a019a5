import type { Clock } from '../../../agent/clock/index.js';

/**
 * A Clock that reads vitest's fake Date, so the readings' stamps move with vi.advanceTimersByTime and timers
 * fire at the times the stamps say. Install fake timers before creating it.
 */
export function fakeTimeClock(): Clock {
  const origin = Date.now();
  return {
    now: () => Date.now() - origin,
    stamp: () => ({ wallTs: Date.now(), monoTs: Date.now() - origin, clockSynced: true }),
    synced: true,
    close: () => {},
  };
}
