import { describe, expect, it } from 'vitest';
import { createProfileDevice } from '../../../drivers/modbus/index.js';
import type { Reading } from '../../../drivers/reading.js';
import { loadShippedProfile, registers, siteDevice, STAMP } from '../../drivers/helpers.js';
import { Harness, oneChannel } from './harness.js';

const SECOND = 1000;

/** What the driver makes of one answer: the same path a poll takes, from the words to the reading. */
function decoded(profileId: string, channel: Record<string, unknown>, words: number[]): Reading {
  const device = createProfileDevice(loadShippedProfile(profileId), siteDevice(profileId, [channel]));
  const [reading] = device.decode(device.planPoll([channel.id as string]), [registers(...words)], STAMP);
  return reading!;
}

describe('a reading above the physical range, from a probe without an over-range status', () => {
  it('JXBS-3001 at 130 ppm on a 0–100 ppm H2S channel raises L2 at once, latched; no fault', () => {
    const channel = { id: 'tank1.h2s', register: 'concentration', range: { min: 0, max: 100 } };
    const reading = decoded('jxbs-3001-gas', channel, [1300]);
    expect(reading).toMatchObject({ value: 130, unit: 'ppm', quality: 'uncertain', reason: 'over-range' });

    const h = new Harness(oneChannel({ id: 'tank1.h2s', register: 'c', unit: 'ppm', alarm: { gas: 'h2s' } }));
    h.read('tank1.h2s', 2);
    h.engine.onReadings([{ ...reading, ...h.clock.stamp() }]);
    expect(h.status('tank1.h2s')).toMatchObject({ level: 'L2', overRange: true, latched: true, fault: false, value: 130 });
    // At once: both raised at the reading's own time, without the 5 s delay-on.
    expect(h.of('alarm-raised').map((e) => [e.level, e.monoTs])).toEqual([
      ['L1', 0],
      ['L2', 0],
    ]);
    expect(h.of('fault')).toEqual([]);

    // Back inside the range: over-range ends, the latch holds until acknowledged.
    h.poll('tank1.h2s', 10, SECOND, () => 1);
    expect(h.status('tank1.h2s')).toMatchObject({ level: 'L2', overRange: false, latched: true });
  });

  it('a crack gauge past the end of its stroke is graded on the kept value, not put in fault', () => {
    const channel = { id: 'w7.crack1', register: 'displacement', range: { min: 0, max: 100 } };
    const reading = decoded('crack-drawwire-u16', channel, [10_500]); // 105 mm on a 100 mm stroke
    expect(reading).toMatchObject({ value: 105, unit: 'mm', quality: 'uncertain', reason: 'over-range' });

    const h = new Harness(
      oneChannel({ id: 'w7.crack1', register: 'c', unit: 'mm', crack: { cumulative: { blue: 2, yellow: 5, orange: 10, red: 20 } } }),
    );
    h.read('w7.crack1', 10); // the baseline
    h.advance(SECOND);
    h.engine.onReadings([{ ...reading, ...h.clock.stamp() }]);
    expect(h.status('w7.crack1')).toMatchObject({ grade: 'red', fault: false, overRange: true, displacement: 95 });
    expect(h.of('crack-grade').map((e) => e.grade)).toEqual(['red']);
    expect(h.of('fault')).toEqual([]);
  });

  it('an over-range first reading of a crack gauge is not taken as its baseline', () => {
    const h = new Harness(oneChannel({ id: 'w7.crack1', register: 'c', unit: 'mm', crack: { cumulative: { red: 20 } } }));
    h.read('w7.crack1', 105, { reason: 'over-range' });
    expect(h.status('w7.crack1').baseline).toBeUndefined();
    expect(h.of('baseline-set')).toEqual([]);
    h.read('w7.crack1', 10);
    expect(h.status('w7.crack1')).toMatchObject({ baseline: 10, overRange: false });
  });
});
