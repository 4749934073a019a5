import { describe, expect, it } from 'vitest';
import { Backoff } from '../../agent/bus/backoff.js';
import { PreciseAlarm } from '../../agent/bus/precise-alarm.js';

describe('Backoff', () => {
  it('doubles its cap up to the max, with full jitter below the cap', () => {
    const top = new Backoff(500, 30_000, () => 1);
    expect(Array.from({ length: 8 }, () => top.next())).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    top.reset();
    expect(top.next()).toBe(500);
    const half = new Backoff(500, 30_000, () => 0.5);
    expect([half.next(), half.next()]).toEqual([250, 500]);
    expect(new Backoff(500, 30_000, () => 0).next()).toBe(0);
  });
});

describe('PreciseAlarm', () => {
  it('never fires before its deadline, and a re-arm replaces the earlier arming', async () => {
    const fired: number[] = [];
    let deadline = 0;
    await new Promise<void>((resolve) => {
      const alarm = new PreciseAlarm(() => {
        fired.push(performance.now() - deadline);
        resolve();
      });
      alarm.at(performance.now() + 1);
      deadline = performance.now() + 7.3;
      alarm.at(deadline);
    });
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(0);
  });

  it('a cancelled alarm does not fire', async () => {
    let fired = 0;
    const alarm = new PreciseAlarm(() => fired++);
    alarm.at(performance.now() + 3);
    alarm.cancel();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toBe(0);
    expect(alarm.pending).toBe(false);
  });
});
