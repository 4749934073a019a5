import { existsSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { ClockStamp } from '../../drivers/reading.js';

/**
 * Wall time, monotonic time and whether the wall clock can be trusted. A Raspberry Pi has no RTC: until
 * NTP has set the clock, wall time may be years off, so every stamp says whether it was synchronised.
 */
export interface Clock {
  stamp(): ClockStamp;
  /** Monotonic milliseconds; never jumps, only for intervals and ordering inside this process. */
  now(): number;
  readonly synced: boolean;
  close(): void;
}

/** systemd-timesyncd creates this file once it has synchronised the clock. */
export const TIMESYNC_FLAG_FILE = '/run/systemd/timesync/synchronized';

export interface SystemClockOptions {
  /** Where the synchronisation flag is read from; 'assume-synced' for hosts without timesyncd (CI, laptops). */
  syncSource?: { flagFile: string } | 'assume-synced';
  /** How often the flag is re-checked. The check runs off the hot path; stamps read a cached boolean. */
  recheckMs?: number;
}

/**
 * Test-only: the soak test (test/soak) jumps the agent's wall clock forward and back without touching the
 * system clock. When VIGIL_TEST_CLOCK_OFFSET_FILE names a file, its content (ms) is added to wall time; it is
 * re-read every 250 ms. Unset in production: the offset is 0 and nothing is read.
 */
function testWallOffset(): { value: () => number; close: () => void } {
  const file = process.env.VIGIL_TEST_CLOCK_OFFSET_FILE;
  if (!file) return { value: () => 0, close: () => {} };
  let offset = 0;
  const read = (): void => {
    readFile(file, 'utf8').then(
      (text) => (offset = Number(text.trim()) || 0),
      () => (offset = 0),
    );
  };
  read();
  const timer = setInterval(read, 250);
  timer.unref();
  return { value: () => offset, close: () => clearInterval(timer) };
}

export function createSystemClock(options: SystemClockOptions = {}): Clock {
  const source = options.syncSource ?? { flagFile: TIMESYNC_FLAG_FILE };
  const testOffset = testWallOffset();
  let synced = source === 'assume-synced';
  let timer: NodeJS.Timeout | undefined;
  if (source !== 'assume-synced') {
    // Known at once at start (one stat of a tmpfs file): the restore of timed state depends on it.
    synced = existsSync(source.flagFile);
    const check = (): void => {
      access(source.flagFile).then(
        () => (synced = true),
        () => (synced = false),
      );
    };
    timer = setInterval(check, options.recheckMs ?? 10_000);
    timer.unref();
  }
  return {
    stamp: () => ({ wallTs: Date.now() + testOffset.value(), monoTs: performance.now(), clockSynced: synced }),
    now: () => performance.now(),
    get synced() {
      return synced;
    },
    close: () => {
      clearInterval(timer);
      testOffset.close();
    },
  };
}

export { ManualClock } from './manual.js';
