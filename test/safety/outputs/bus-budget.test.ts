import { describe, expect, it } from 'vitest';
import { FAILED_WRITE_ERROR_RETRY_MS } from '../../../agent/safety/outputs/index.js';
import { MINUTE, gasSite, harness, tankFan } from './helpers.js';

const timeout = { ok: false as const, error: 'coil relay_1 of tank1-relays: timeout (no answer in 500 ms)' };

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

describe('bus time of a dead relay board', () => {
  it('writes a new command at once, retries quickly, then at most every 30 s after output-failed', async () => {
    const h = harness({ outputs: [{ ...tankFan, minOn: '0s', minOff: '0s' }], safety: gasSite() });
    h.driver('tank1.fan').answer = () => timeout;
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').writes).toHaveLength(1);
    await h.run(10_000);
    const failedAt = h.eventsOf('output-failed')[0]?.monoTs;
    expect(failedAt).toBeDefined();
    expect(h.driver('tank1.fan').writes.map((w) => w.atMono)).toEqual([0, 1000, 2000]);

    await h.run(10 * MINUTE);
    expect(FAILED_WRITE_ERROR_RETRY_MS).toBe(30_000);
    const afterFailure = h.driver('tank1.fan').writes.filter((w) => w.atMono > failedAt!).map((w) => w.atMono);
    expect(Math.min(...gaps([failedAt!, ...afterFailure]))).toBeGreaterThanOrEqual(FAILED_WRITE_ERROR_RETRY_MS);
    expect(afterFailure.length).toBeLessThanOrEqual(20);
    expect(afterFailure.length).toBeGreaterThanOrEqual(19);

    // a new command (the gas clears) is still written at once
    const before = h.driver('tank1.fan').writes.length;
    h.safety.set('tank1.ch4', { level: 'normal', value: 1 });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').writes.slice(before).map((w) => [w.on, w.atMono])).toEqual([[false, h.clock.now()]]);
  });

  it('a re-assert to a board that has died falls to the same pace', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    await h.run(MINUTE);
    h.driver('tank1.fan').answer = () => timeout;
    const diedAt = h.clock.now();
    await h.run(30 * MINUTE);
    const writes = h.driver('tank1.fan').writes.filter((w) => w.atMono > diedAt).map((w) => w.atMono);
    expect(h.eventsOf('output-failed')).toHaveLength(1);
    // first re-assert and its two quick retries, then one write per 30 s at most
    expect(gaps(writes.slice(2)).every((gap) => gap >= FAILED_WRITE_ERROR_RETRY_MS)).toBe(true);
    expect(writes.length).toBeLessThanOrEqual(3 + 60);
  });
});
