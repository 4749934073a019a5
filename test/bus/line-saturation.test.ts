import { describe, expect, it } from 'vitest';
import { charTimeMs } from '../../drivers/modbus/rtu.js';
import { LineSaturation, MIN_PAUSE_MS, RELAXED_TOLERANCE_MS, SATURATED_AFTER_MS } from '../../agent/bus/line-saturation.js';
import { PreciseAlarm } from '../../agent/bus/precise-alarm.js';

const line = (baud: number) => ({ baud, dataBits: 8, parity: 'none', stopBits: 1 }) as const;
const CHAR_9600 = charTimeMs(line(9600));
const T35_9600 = 3.5 * CHAR_9600;

/** Queues a job every `everyMs` from `from` to `to`, each `gapMs` after the line fell silent. */
function work(saturation: LineSaturation, from: number, to: number, everyMs: number, gapMs: number): void {
  for (let now = from; now <= to; now += everyMs) saturation.jobQueued(now, true, now - gapMs);
}

describe('line saturation: how late the guard may end', () => {
  it('a line with time to spare may end its guard up to 2 ms late; one that has worked a second without a pause, half a character', () => {
    const saturation = new LineSaturation(CHAR_9600, T35_9600, 0);
    expect(saturation.guardToleranceMs(0)).toBe(RELAXED_TOLERANCE_MS);
    // A poll loop flat out: each request queued a moment after the last answer, well within a pause.
    work(saturation, 0, SATURATED_AFTER_MS - 1, 25, 1);
    expect(saturation.saturated(SATURATED_AFTER_MS - 1, true)).toBe(false);
    expect(saturation.guardToleranceMs(SATURATED_AFTER_MS - 1)).toBe(RELAXED_TOLERANCE_MS);
    work(saturation, SATURATED_AFTER_MS, 2 * SATURATED_AFTER_MS, 25, MIN_PAUSE_MS - 1);
    expect(saturation.saturated(2 * SATURATED_AFTER_MS, true)).toBe(true);
    expect(saturation.guardToleranceMs(2 * SATURATED_AFTER_MS)).toBeCloseTo(CHAR_9600 / 2, 9);
  });

  it('a pause longer than MIN_PAUSE_MS (and the guard) gives the line its slack back; a queue behind the wire is no pause', () => {
    const saturation = new LineSaturation(CHAR_9600, T35_9600, 0);
    work(saturation, 0, 1500, 25, 1);
    expect(saturation.saturated(1500, true)).toBe(true);
    saturation.jobQueued(1600, false, 1500);
    expect(saturation.saturated(1600, true)).toBe(true);
    saturation.jobQueued(1700, true, 1700 - MIN_PAUSE_MS - 1);
    expect(saturation.saturated(1700, true)).toBe(false);
    expect(saturation.guardToleranceMs(1700)).toBe(RELAXED_TOLERANCE_MS);
  });

  it('a configured guard longer than MIN_PAUSE_MS is no pause: silence within it still counts as work', () => {
    const saturation = new LineSaturation(CHAR_9600, 24, 0);
    work(saturation, 0, 1500, 40, 20);
    expect(saturation.saturated(1500, true)).toBe(true);
  });

  it('an idle line is not saturated, and a reconnect starts afresh', () => {
    const saturation = new LineSaturation(CHAR_9600, T35_9600, 0);
    work(saturation, 0, 1500, 25, 1);
    expect(saturation.saturated(1500, false)).toBe(false);
    saturation.restart(1600);
    expect(saturation.saturated(1700, true)).toBe(false);
  });

  it('never asks a slow line for less than half a character', () => {
    const char1200 = charTimeMs(line(1200));
    const saturation = new LineSaturation(char1200, 3.5 * char1200, 0);
    expect(saturation.guardToleranceMs(0)).toBeCloseTo(char1200 / 2, 9);
    work(saturation, 0, 1500, 100, 1);
    expect(saturation.guardToleranceMs(1500)).toBeCloseTo(char1200 / 2, 9);
  });

  it('an alarm given the relaxed tolerance still never fires before its deadline', async () => {
    const early: number[] = [];
    for (let i = 0; i < 20; i++) {
      const waitMs = 3 + (i % 7) * 0.37;
      await new Promise<void>((resolve) => {
        const deadline = performance.now() + waitMs;
        const alarm = new PreciseAlarm(() => {
          const firedAt = performance.now();
          if (firedAt < deadline) early.push(deadline - firedAt);
          resolve();
        });
        alarm.at(deadline, RELAXED_TOLERANCE_MS);
      });
    }
    expect(early).toEqual([]);
  });
});
