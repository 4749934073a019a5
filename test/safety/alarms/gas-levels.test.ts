import { describe, expect, it } from 'vitest';
import { Harness, oneChannel, seededRandom } from './harness.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** 0 → peak → 0 in steps of 1, one reading a second. */
function ramp(peak: number): number[] {
  const up = Array.from({ length: peak + 1 }, (_, i) => i);
  return [...up, ...up.slice(0, -1).reverse()];
}

describe('gas levels: ramps through each level and back through the deadband', () => {
  it('CH4 20/50 %LEL with 5 s delay-on; non-latched L2 clears below 40, L1 below 16', () => {
    const h = new Harness(oneChannel({ id: 'tank1.ch4', register: 'c', unit: '%LEL', alarm: { gas: 'ch4', L2: { latch: false } } }));
    const values = ramp(60);
    h.poll('tank1.ch4', values.length, SECOND, (i) => values[i]!);

    // Raised by tick() 5 s after first reaching the setpoint (20 at t = 20 s, raised at 25 s with 24 the last value),
    // cleared at the first value past the deadband.
    expect(h.story()).toEqual(['alarm-raised L1 @24', 'alarm-raised L2 @54', 'alarm-cleared L2 @39', 'alarm-cleared L1 @15']);
    const [l1] = h.of('alarm-raised', { level: 'L1' });
    expect(l1).toMatchObject({ channelId: 'tank1.ch4', unit: '%LEL', setpoint: 20, rule: 'tank1.ch4 ≥ 20 %LEL for 5 s (L1)' });
    expect(l1!.monoTs).toBe(25 * SECOND);
    expect(h.of('alarm-cleared', { level: 'L1' })[0]).toMatchObject({ rule: 'tank1.ch4 < 16 %LEL (L1 clears)', setpoint: 20 });
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'normal', latched: false, fault: false });
  });

  it('H2S 7/14 ppm: L2 latches by default and holds L1 with it until acknowledged and below 5.6 ppm', () => {
    const h = new Harness(oneChannel({ id: 'tank1.h2s', register: 'c', unit: 'ppm', alarm: { gas: 'h2s' } }));
    const values = ramp(20);
    h.poll('tank1.h2s', values.length, SECOND, (i) => values[i]!);

    expect(h.story()).toEqual(['alarm-raised L1 @11', 'alarm-raised L2 @18']);
    expect(h.status('tank1.h2s')).toMatchObject({ level: 'L2', latched: true, acknowledged: false, value: 0 });
    expect(h.of('alarm-raised', { level: 'L2' })[0]!.rule).toBe('tank1.h2s ≥ 14 ppm for 5 s (L2, latched)');

    h.engine.acknowledge('tank1.h2s', 'operator-7');
    // The value is already back below L1: acknowledging ends the latch at once, L2 first, then L1.
    expect(h.story()).toEqual(['alarm-raised L1 @11', 'alarm-raised L2 @18', 'alarm-cleared L2 @0', 'alarm-cleared L1 @0']);
    expect(h.of('alarm-cleared', { level: 'L2' })[0]!.rule).toBe('tank1.h2s acknowledged and < 5.6 ppm (L2 clears)');
  });

  it('a generic channel without gas uses its own levels, and a delay in samples', () => {
    const h = new Harness(
      oneChannel(
        {
          id: 'well.level',
          register: 'c',
          unit: 'm',
          alarm: { L1: { setpoint: 2, deadband: 0.5, delayOn: { samples: 2 } } },
        },
        'dev1',
        '1m',
      ),
    );
    h.poll('well.level', 6, MINUTE, (i) => [1, 2.1, 2.2, 1.6, 1.4, 1.4][i]!);
    expect(h.story()).toEqual(['alarm-raised L1 @2.2', 'alarm-cleared L1 @1.4']);
    expect(h.of('alarm-raised')[0]!.rule).toBe('well.level ≥ 2 m for 2 samples (L1)');
  });
});

describe('gas levels: noise at the setpoint does not chatter', () => {
  it('an hour of 18–22 %LEL noise around the 20 %LEL setpoint raises L1 once and never clears it', () => {
    const random = seededRandom(42);
    const h = new Harness(oneChannel({ id: 'tank1.ch4', register: 'c', unit: '%LEL', alarm: { gas: 'ch4' } }));
    h.poll('tank1.ch4', 3600, SECOND, () => 18 + 4 * random());
    expect(h.of('alarm-raised')).toHaveLength(1);
    expect(h.of('alarm-cleared')).toHaveLength(0);

    // Then an hour of noise around the clear level (16 %LEL): one clear, and no new alarm.
    h.poll('tank1.ch4', 3600, SECOND, () => 14 + 4 * random());
    expect(h.of('alarm-raised')).toHaveLength(1);
    expect(h.of('alarm-cleared')).toHaveLength(1);
  });

  it('without deadband and delay the same noise chatters (what the defaults prevent)', () => {
    const random = seededRandom(42);
    const h = new Harness(
      oneChannel({
        id: 'tank1.ch4',
        register: 'c',
        unit: '%LEL',
        alarm: { gas: 'ch4', L1: { deadband: 0, delayOn: '0s' } },
      }),
    );
    h.poll('tank1.ch4', 3600, SECOND, () => 18 + 4 * random());
    expect(h.of('alarm-raised').length).toBeGreaterThan(500);
  });
});

describe('gas levels: delays', () => {
  it('delay-on by time: the condition must hold 5 s; tick() raises it between samples; a dip starts again', () => {
    const h = new Harness(oneChannel({ id: 'tank1.co', register: 'c', unit: 'ppm', alarm: { gas: 'co' } }, 'dev1', '2s'));
    h.read('tank1.co', 20); // t = 0
    h.advance(2 * SECOND);
    h.read('tank1.co', 20); // t = 2
    h.advance(2 * SECOND);
    h.read('tank1.co', 10); // t = 4: the dip
    h.advance(2 * SECOND);
    h.read('tank1.co', 20); // t = 6: starts again
    h.advance(2 * SECOND);
    h.read('tank1.co', 20); // t = 8
    h.advance(2 * SECOND);
    h.read('tank1.co', 20); // t = 10
    h.advance(900);
    expect(h.of('alarm-raised')).toHaveLength(0); // 4.9 s since t = 6
    h.advance(100);
    expect(h.of('alarm-raised')).toHaveLength(1);
    expect(h.of('alarm-raised')[0]!.monoTs).toBe(11 * SECOND);
  });

  it('delay-on by samples: the 3rd consecutive sample raises, however far apart; time alone does not', () => {
    const h = new Harness(
      oneChannel({ id: 'tank1.nh3', register: 'c', unit: 'ppm', alarm: { gas: 'nh3', L1: { delayOn: { samples: 3 } } } }, 'dev1', '10m'),
    );
    h.read('tank1.nh3', 30);
    h.advance(10 * MINUTE);
    h.read('tank1.nh3', 30);
    h.advance(10 * MINUTE);
    expect(h.of('alarm-raised')).toHaveLength(0);
    h.read('tank1.nh3', 20); // below 28: the count starts again
    h.advance(10 * MINUTE);
    h.read('tank1.nh3', 30);
    h.advance(10 * MINUTE);
    h.read('tank1.nh3', 30);
    h.advance(10 * MINUTE);
    expect(h.of('alarm-raised')).toHaveLength(0);
    h.read('tank1.nh3', 30);
    expect(h.story()).toEqual(['alarm-raised L1 @30']);
    expect(h.of('alarm-raised')[0]!.rule).toBe('tank1.nh3 ≥ 28 ppm for 3 samples (L1)');
  });

  it('delay-off by time: back below the clear level for 10 s before L1 clears', () => {
    const h = new Harness(
      oneChannel({ id: 'tank1.co', register: 'c', unit: 'ppm', alarm: { gas: 'co', L1: { delayOn: '0s', delayOff: '10s' } } }),
    );
    h.read('tank1.co', 20);
    expect(h.status('tank1.co').level).toBe('L1');
    h.advance(SECOND);
    h.poll('tank1.co', 9, SECOND, () => 5); // t = 1 … 9 s, ticks up to 10 s
    expect(h.of('alarm-cleared')).toHaveLength(0);
    h.advance(SECOND); // no new sample needed: 10 s since the first clear one at t = 1 s
    expect(h.of('alarm-cleared')).toHaveLength(1);
    expect(h.of('alarm-cleared')[0]!.monoTs).toBe(11 * SECOND);
    expect(h.of('alarm-cleared')[0]!.rule).toBe('tank1.co < 13.6 ppm for 10 s (L1 clears)');
  });

  it('delay-off: a value back above the clear level restarts the count', () => {
    const h = new Harness(
      oneChannel({ id: 'tank1.co', register: 'c', unit: 'ppm', alarm: { gas: 'co', L1: { delayOn: '0s', delayOff: '10s' } } }),
    );
    h.read('tank1.co', 20);
    h.poll('tank1.co', 20, SECOND, (i) => (i === 8 ? 15 : 5));
    expect(h.of('alarm-cleared')).toHaveLength(1);
    expect(h.of('alarm-cleared')[0]!.monoTs).toBe(19 * SECOND); // 10 s after the sample at t = 9
  });
});

describe('gas levels: latch, acknowledge and reset', () => {
  const ch4 = () => new Harness(oneChannel({ id: 'tank1.ch4', register: 'c', unit: '%LEL', alarm: { gas: 'ch4' } }, 'tank1-ch4'));

  it('a latched L2 cannot be reset while the gas is high, and clears after acknowledgement once below L1', () => {
    const h = ch4();
    h.poll('tank1.ch4', 10, SECOND, () => 60);
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'L2', latched: true, acknowledged: false });

    const refused = h.engine.reset('tank1.ch4', 'op');
    expect(refused.reset).toEqual([]);
    expect(refused.refused).toEqual([
      { channelId: 'tank1.ch4', why: 'tank1.ch4 is at 60 %LEL: L2 clears only when tank1.ch4 < 16 %LEL' },
    ]);
    expect(h.of('alarm-reset')).toHaveLength(0);

    expect(h.engine.acknowledge('tank1.ch4', 'op')).toEqual({ acknowledged: ['tank1.ch4'] });
    expect(h.of('alarm-acknowledged')[0]).toMatchObject({ by: 'op', level: 'L2', value: 60, setpoint: 50 });
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'L2', latched: true, acknowledged: true });
    expect(h.engine.acknowledge('tank1.ch4', 'op')).toEqual({ acknowledged: [] }); // nothing new

    // Between L1's clear level and L2: acknowledged, but still latched.
    h.poll('tank1.ch4', 10, SECOND, () => 30);
    h.poll('tank1.ch4', 10, SECOND, () => 17);
    expect(h.status('tank1.ch4').level).toBe('L2');
    h.read('tank1.ch4', 15);
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'normal', latched: false, acknowledged: false });
    expect(h.story()).toEqual(['alarm-raised L1 @60', 'alarm-raised L2 @60', 'alarm-cleared L2 @15', 'alarm-cleared L1 @15']);
  });

  it('back below L1 but not acknowledged: stays latched; reset acknowledges and clears, by whom', () => {
    const h = ch4();
    h.poll('tank1.ch4', 10, SECOND, () => 60);
    h.poll('tank1.ch4', 60, SECOND, () => 0); // a catalytic head can fall to zero in a very rich mixture
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'L2', latched: true });

    expect(h.engine.reset('*', 'op-3')).toEqual({ reset: ['tank1.ch4'], refused: [] });
    expect(h.of('alarm-reset')[0]).toMatchObject({ by: 'op-3', level: 'L2', value: 0 });
    expect(h.of('alarm-cleared').map((e) => [e.level, e.by])).toEqual([
      ['L2', 'op-3'],
      ['L1', 'op-3'],
    ]);
    expect(h.status('tank1.ch4').level).toBe('normal');
    expect(h.engine.reset('tank1.ch4', 'op-3').refused).toEqual([{ channelId: 'tank1.ch4', why: 'nothing latched' }]);
  });

  it('reset is refused while the probe is in fault, and a new alarm after acknowledgement is unacknowledged again', () => {
    const h = ch4();
    h.poll('tank1.ch4', 10, SECOND, () => 25);
    h.engine.acknowledge('*', 'op');
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'L1', acknowledged: true });
    h.poll('tank1.ch4', 10, SECOND, () => 55);
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'L2', acknowledged: false });

    h.poll('tank1.ch4', 3, SECOND, () => null);
    expect(h.engine.reset('tank1.ch4', 'op').refused[0]!.why).toBe(
      'in fault (timeout): no good reading shows the condition has gone',
    );
  });
});

describe('gas levels: faults are states, never values', () => {
  const h2s = (faultAfter?: number) =>
    new Harness(
      oneChannel({ id: 'tank1.h2s', register: 'c', unit: 'ppm', alarm: { gas: 'h2s', ...(faultAfter ? { faultAfter } : {}) } }),
    );

  it('a probe that dies mid-alarm: fault after 3 failed polls, the level kept for an hour, cleared by good readings', () => {
    const h = h2s();
    h.poll('tank1.h2s', 10, SECOND, () => 10);
    expect(h.status('tank1.h2s').level).toBe('L1');

    h.poll('tank1.h2s', 2, SECOND, () => null);
    expect(h.status('tank1.h2s').fault).toBe(false);
    h.poll('tank1.h2s', 1, SECOND, () => null);
    expect(h.status('tank1.h2s')).toMatchObject({ fault: true, faultReason: 'timeout', level: 'L1', value: null });
    expect(h.of('fault')[0]!.rule).toBe('tank1.h2s in fault after 3 failed polls in a row (timeout)');

    h.poll('tank1.h2s', 3600, SECOND, () => null);
    expect(h.status('tank1.h2s')).toMatchObject({ fault: true, level: 'L1' });
    expect(h.of('fault')).toHaveLength(1);
    expect(h.of('alarm-cleared')).toHaveLength(0);

    h.read('tank1.h2s', 3);
    expect(h.events.slice(-2).map((e) => e.type)).toEqual(['fault-cleared', 'alarm-cleared']);
    expect(h.status('tank1.h2s')).toMatchObject({ fault: false, level: 'normal', value: 3 });
  });

  it('faultAfter is per channel, and a good reading between failures starts the count again', () => {
    const h = h2s(5);
    h.poll('tank1.h2s', 12, SECOND, (i) => (i === 4 ? 1 : null));
    expect(h.of('fault')).toHaveLength(1);
    expect(h.of('fault')[0]!.monoTs).toBe(9 * SECOND); // failures 5..9 after the good reading at 4
  });

  it('no alarm is raised from absent data: a probe in fault at normal stays normal', () => {
    const h = h2s();
    h.poll('tank1.h2s', 3, SECOND, () => 1);
    h.poll('tank1.h2s', 600, SECOND, () => null);
    expect(h.status('tank1.h2s')).toMatchObject({ fault: true, level: 'normal' });
    expect(h.of('alarm-raised')).toHaveLength(0);
  });

  it.each([
    ['sensor-fault', 'tank1.h2s in fault: the probe reports a sensor fault'],
    ['sensor-lost', 'tank1.h2s in fault: the probe has lost its sensor'],
    ['needs-calibration', 'tank1.h2s in fault: the probe needs calibration'],
    ['data-error', 'tank1.h2s in fault: the probe reports a data error'],
    ['sentinel', 'tank1.h2s in fault: the probe sent its "no data" value'],
    ['out-of-range', 'tank1.h2s in fault: the value is below the physical range'],
  ] as const)('%s is a fault at once', (reason, rule) => {
    const h = h2s();
    h.read('tank1.h2s', 2);
    h.read('tank1.h2s', null, { quality: 'bad', reason, detail: 'status 0x03' });
    expect(h.status('tank1.h2s')).toMatchObject({ fault: true, faultReason: reason, warmUp: false });
    expect(h.of('fault')).toEqual([expect.objectContaining({ rule, cause: 'status 0x03', value: null })]);
  });

  it('a pending delay does not complete across a fault: the condition must hold again after it', () => {
    const h = h2s(1);
    h.poll('tank1.h2s', 3, SECOND, () => 10);
    h.poll('tank1.h2s', 1, SECOND, () => null);
    h.poll('tank1.h2s', 4, SECOND, () => 10);
    expect(h.of('alarm-raised')).toHaveLength(0);
    h.poll('tank1.h2s', 2, SECOND, () => 10);
    expect(h.of('alarm-raised')).toHaveLength(1);
  });

  it('a value unchanged for stuckAfter is a fault; it ends when the value moves', () => {
    const h = new Harness(
      oneChannel({ id: 'tank1.co', register: 'c', unit: 'ppm', alarm: { gas: 'co', stuckAfter: '1h' } }, 'dev1', '1m'),
    );
    h.poll('tank1.co', 59, MINUTE, () => 4);
    h.read('tank1.co', 4); // t = 59 min
    h.advance(MINUTE - SECOND);
    expect(h.status('tank1.co').fault).toBe(false);
    h.advance(SECOND); // an hour since the first 4 ppm: tick() finds it stuck
    expect(h.status('tank1.co')).toMatchObject({ fault: true, faultReason: 'stuck', value: 4 });
    expect(h.of('fault')[0]!.monoTs).toBe(HOUR);
    expect(h.of('fault')[0]!.rule).toBe('tank1.co in fault: value unchanged for 1 h');
    h.advance(MINUTE);
    h.read('tank1.co', 4.1);
    expect(h.status('tank1.co').fault).toBe(false);
    expect(h.of('fault-cleared')).toHaveLength(1);
  });

  it('no reading at all for faultAfter + 2 intervals (at least 10 s) is a fault: the poller or the bus is gone', () => {
    const h = new Harness(oneChannel({ id: 'tank1.co', register: 'c', unit: 'ppm', alarm: { gas: 'co' } }, 'dev1', '5s'));
    h.read('tank1.co', 1);
    h.advance(24 * SECOND);
    expect(h.status('tank1.co').fault).toBe(false);
    h.advance(SECOND);
    expect(h.status('tank1.co')).toMatchObject({ fault: true, faultReason: 'silent' });
    expect(h.of('fault')[0]!.rule).toBe('tank1.co in fault: no reading for 25 s');
    h.read('tank1.co', 1);
    expect(h.status('tank1.co').fault).toBe(false);
  });

  it('settings the engine cannot act on hold the channel in fault, with the reason', () => {
    const h = new Harness(oneChannel({ id: 'x.level', register: 'c', unit: 'm', alarm: {} }));
    expect(h.status('x.level')).toMatchObject({
      fault: true,
      faultReason: 'an alarm without "gas" needs L1 or L2: there are no default levels to fall back on',
    });
    h.read('x.level', 1);
    expect(h.status('x.level').fault).toBe(true);
  });
});

describe('gas levels: warm-up and over-range', () => {
  it('warm-up suppresses alarms, is reported once, is not a fault; alarms work once it is done', () => {
    const h = new Harness(oneChannel({ id: 'tank1.ch4', register: 'c', unit: '%LEL', alarm: { gas: 'ch4' } }));
    h.poll('tank1.ch4', 60, SECOND, () => 80, { reason: 'warm-up', detail: 'warm-up 12.0 s left' });
    expect(h.status('tank1.ch4')).toMatchObject({ warmUp: true, fault: false, level: 'normal', value: 80 });
    expect(h.of('warm-up')).toHaveLength(1);
    expect(h.of('warm-up')[0]!.rule).toBe('tank1.ch4 warming up: alarms suppressed');
    expect(h.of('alarm-raised')).toHaveLength(0);

    h.poll('tank1.ch4', 6, SECOND, () => 80);
    expect(h.of('warm-up-done')).toHaveLength(1);
    expect(h.status('tank1.ch4')).toMatchObject({ warmUp: false, level: 'L2' });
  });

  it('over-range raises L2 at once (no delay), latched, and accelerates the device', () => {
    const h = new Harness(oneChannel({ id: 'tank1.ch4', register: 'c', unit: '%LEL', alarm: { gas: 'ch4' } }, 'tank1-ch4'));
    h.read('tank1.ch4', 5);
    h.read('tank1.ch4', 100, { reason: 'over-range', detail: 'status 0x08 over-range' });
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'L2', overRange: true, latched: true });
    expect(h.of('alarm-raised').map((e) => [e.level, e.monoTs])).toEqual([
      ['L1', 0],
      ['L2', 0],
    ]);
    expect(h.of('alarm-raised', { level: 'L2' })[0]).toMatchObject({ rule: 'tank1.ch4 over-range (L2, latched)', cause: 'status 0x08 over-range' });
    expect([...h.engine.acceleratedDevices()]).toEqual(['tank1-ch4']);

    // A catalytic head that then reads zero: over-range ends, the latch holds until acknowledged.
    h.poll('tank1.ch4', 30, SECOND, () => 0);
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'L2', overRange: false, latched: true });
    h.engine.acknowledge('tank1.ch4', 'op');
    expect(h.status('tank1.ch4').level).toBe('normal');
    expect(h.engine.acceleratedDevices().size).toBe(0);
  });

  it('over-range without a value (sentinel too) is still L2', () => {
    const h = new Harness(oneChannel({ id: 'tank1.h2s', register: 'c', unit: 'ppm', alarm: { gas: 'h2s' } }));
    h.read('tank1.h2s', null, { quality: 'uncertain', reason: 'over-range' });
    expect(h.status('tank1.h2s')).toMatchObject({ level: 'L2', overRange: true, fault: false, value: null });
  });
});

describe('gas levels: oxygen band', () => {
  const o2 = (L2?: { latch: boolean }) =>
    new Harness(oneChannel({ id: 'tank1.o2', register: 'c', unit: '%vol', alarm: { gas: 'o2', ...(L2 ? { L2 } : {}) } }));

  it('L1 outside 19.5–23.5 %vol on both sides; clears 0.5 %vol inside', () => {
    const h = o2();
    h.poll('tank1.o2', 10, SECOND, () => 20.9);
    h.poll('tank1.o2', 6, SECOND, () => 19.4);
    h.poll('tank1.o2', 6, SECOND, () => 20.0);
    h.poll('tank1.o2', 1, SECOND, () => 20.1);
    h.poll('tank1.o2', 6, SECOND, () => 23.6);
    h.poll('tank1.o2', 6, SECOND, () => 23.0);
    h.poll('tank1.o2', 1, SECOND, () => 22.9);
    expect(h.story()).toEqual(['alarm-raised L1 @19.4', 'alarm-cleared L1 @20.1', 'alarm-raised L1 @23.6', 'alarm-cleared L1 @22.9']);
    expect(h.of('alarm-raised').map((e) => [e.setpoint, e.rule])).toEqual([
      [19.5, 'tank1.o2 outside 19.5–23.5 %vol for 5 s (L1)'],
      [23.5, 'tank1.o2 outside 19.5–23.5 %vol for 5 s (L1)'],
    ]);
    expect(h.of('alarm-cleared')[0]!.rule).toBe('tank1.o2 inside 20–23 %vol (L1 clears)');
  });

  it('O2-low L2 at 18 %vol clears above 18.5 %vol (when not latched); L1 stays until back in the band', () => {
    const h = o2({ latch: false });
    h.poll('tank1.o2', 6, SECOND, () => 17.9);
    expect(h.status('tank1.o2').level).toBe('L2');
    h.poll('tank1.o2', 5, SECOND, () => 18.5);
    expect(h.status('tank1.o2').level).toBe('L2');
    h.poll('tank1.o2', 1, SECOND, () => 18.6);
    expect(h.status('tank1.o2').level).toBe('L1');
    expect(h.of('alarm-cleared', { level: 'L2' })[0]!.rule).toBe('tank1.o2 > 18.5 %vol (L2 clears)');
  });

  it('O2-low L2 latches by default: acknowledged and back inside the L1 band', () => {
    const h = o2();
    h.poll('tank1.o2', 6, SECOND, () => 17);
    h.engine.acknowledge('tank1.o2', 'op');
    h.poll('tank1.o2', 5, SECOND, () => 19.8);
    expect(h.status('tank1.o2').level).toBe('L2');
    h.read('tank1.o2', 20.5);
    expect(h.status('tank1.o2').level).toBe('normal');
  });
});

describe('gas levels: units are converted only by known rules', () => {
  it('a CH4 probe in %vol against %LEL setpoints through the default 5 %vol basis', () => {
    const h = new Harness(oneChannel({ id: 'tank1.ch4', register: 'c', unit: '%vol', alarm: { gas: 'ch4' } }));
    h.poll('tank1.ch4', 10, SECOND, () => 0.95);
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'normal', value: 0.95, unit: '%vol', compared: { value: 19, unit: '%LEL' } });
    h.poll('tank1.ch4', 6, SECOND, () => 1.0);
    expect(h.of('alarm-raised')[0]).toMatchObject({ level: 'L1', value: 20, unit: '%LEL', setpoint: 20, cause: 'probe reads 1 %vol' });
    h.poll('tank1.ch4', 6, SECOND, () => 2.5);
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'L2', compared: { value: 50, unit: '%LEL' } });
  });

  it('the IEC basis of 4.4 %vol: 0.88 %vol is 20 %LEL, 0.87 %vol is not', () => {
    const h = new Harness(oneChannel({ id: 'tank1.ch4', register: 'c', unit: '%VOL', alarm: { gas: 'ch4', lelBasis: 4.4 } }));
    h.poll('tank1.ch4', 10, SECOND, () => 0.87);
    expect(h.status('tank1.ch4').compared).toEqual({ value: 19.77272727, unit: '%LEL' });
    expect(h.of('alarm-raised')).toHaveLength(0);
    h.poll('tank1.ch4', 6, SECOND, () => 0.88);
    expect(h.of('alarm-raised')[0]).toMatchObject({ level: 'L1', value: 20 });
  });

  it('H2S in mg/m³ against ppm setpoints: ppm = mg/m³ × 24.04 / 34.08', () => {
    const h = new Harness(oneChannel({ id: 'tank1.h2s', register: 'c', unit: 'mg/m³', alarm: { gas: 'h2s' } }));
    h.poll('tank1.h2s', 6, SECOND, () => 9.9);
    expect(h.status('tank1.h2s').compared).toEqual({ value: 6.983450704, unit: 'ppm' });
    expect(h.of('alarm-raised')).toHaveLength(0);
    h.poll('tank1.h2s', 6, SECOND, () => 10);
    expect(h.status('tank1.h2s')).toMatchObject({ level: 'L1', compared: { value: 7.05399061, unit: 'ppm' } });
  });

  it('setpoints written in mg/m³ use the GBZ 2.1 values themselves (CO 20/40 mg/m³)', () => {
    const h = new Harness(oneChannel({ id: 'tank1.co', register: 'c', unit: 'ppm', alarm: { gas: 'co', setpointUnit: 'mg/m3' } }));
    h.poll('tank1.co', 6, SECOND, () => 17.5); // 17.5 ppm = 20.39 mg/m³
    expect(h.of('alarm-raised')[0]).toMatchObject({ level: 'L1', setpoint: 20, unit: 'mg/m3' });
  });

  it('a unit that cannot be compared is a fault with the reason, never a comparison', () => {
    const h = new Harness(oneChannel({ id: 'tank1.h2s', register: 'c', unit: 'ppm', alarm: { gas: 'h2s' } }));
    h.poll('tank1.h2s', 10, SECOND, () => 50, { unit: '%LEL' });
    expect(h.status('tank1.h2s')).toMatchObject({
      fault: true,
      faultReason: 'unit %LEL cannot be compared with setpoints in ppm',
      level: 'normal',
      value: 50,
    });
    expect(h.status('tank1.h2s').compared).toBeUndefined();
    expect(h.of('alarm-raised')).toHaveLength(0);
    expect(h.of('fault')).toHaveLength(1);

    h.read('tank1.h2s', 2, { unit: 'ppm' });
    expect(h.status('tank1.h2s').fault).toBe(false);
  });

  it('CH4 in mg/m³ has no known rule: fault', () => {
    const h = new Harness(oneChannel({ id: 'tank1.ch4', register: 'c', alarm: { gas: 'ch4' } }));
    h.read('tank1.ch4', 5, { unit: 'mg/m3' });
    expect(h.status('tank1.ch4').faultReason).toBe('unit mg/m3 cannot be compared with setpoints in %LEL');
  });
});
