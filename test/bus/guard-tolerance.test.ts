import { describe, expect, it } from 'vitest';
import { charTimeMs } from '../../drivers/modbus/rtu.js';
import { guardLateToleranceMs, RELAXED_TOLERANCE_MS, SATURATED_AFTER_MS } from '../../agent/bus/guard-tolerance.js';
import { PreciseAlarm } from '../../agent/bus/precise-alarm.js';

const line = (baud: number) => ({ baud, dataBits: 8, parity: 'none', stopBits: 1 }) as const;

describe('guard tolerance', () => {
  it('spends a little lateness on a line with time to spare, and none beyond half a character on a saturated one', () => {
    const char9600 = charTimeMs(line(9600));
    expect(guardLateToleranceMs(char9600, 0)).toBe(RELAXED_TOLERANCE_MS);
    expect(guardLateToleranceMs(char9600, SATURATED_AFTER_MS - 1)).toBe(RELAXED_TOLERANCE_MS);
    expect(guardLateToleranceMs(char9600, SATURATED_AFTER_MS)).toBeCloseTo(char9600 / 2, 9);
    expect(guardLateToleranceMs(char9600, 60_000)).toBeLessThan(1);
  });

  it('never asks a slow line for less than half a character', () => {
    const char1200 = charTimeMs(line(1200));
    expect(guardLateToleranceMs(char1200, 0)).toBeCloseTo(char1200 / 2, 9);
    expect(guardLateToleranceMs(char1200, 60_000)).toBeCloseTo(char1200 / 2, 9);
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
