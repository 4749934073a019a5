import { describe, expect, it } from 'vitest';
import type { SiteInput } from '../../../config/schema/index.js';
import { ManualClock } from '../../../agent/clock/index.js';
import { parseAlarmSnapshot, type AlarmSnapshot } from '../../../agent/safety/alarms/index.js';
import { Harness, siteWith } from './harness.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Crack = NonNullable<SiteInput['devices'][number]['channels'][number]['crack']>;

function gauge(crack: Crack, interval = '30m') {
  return siteWith([
    {
      device: 'crack-1',
      interval,
      channels: [{ id: 'w7.crack1', register: 'displacement', unit: 'mm', crack }],
    },
  ]);
}

/** Readings `everyMs` apart, ticking every `tickMs` in between. */
function series(h: Harness, values: readonly number[], everyMs: number, tickMs = MINUTE): void {
  for (const value of values) {
    h.read('w7.crack1', value);
    h.advance(everyMs, tickMs);
  }
}

const grades = (h: Harness) => h.of('crack-grade').map((e) => e.grade);

describe('crack grades: cumulative displacement from the baseline', () => {
  it('grades |value − baseline| both ways, and clears 10 % below a threshold', () => {
    const h = new Harness(gauge({ cumulative: { blue: 2, yellow: 5, orange: 10, red: 20 } }));
    series(h, [10, 11.9, 12, 15, 20, 19.5, 18.9, 10.1, 7], 30 * MINUTE);
    expect(h.story(['crack-grade'])).toEqual([
      'crack-grade blue @2',
      'crack-grade yellow @5',
      'crack-grade orange @10',
      'crack-grade yellow @8.9', // 9.5 held orange (≥ 9), 8.9 does not
      'crack-grade null @0.1',
      'crack-grade blue @3', // closing counts too
    ]);
    expect(h.of('crack-grade').map((e) => e.rule)).toEqual([
      'w7.crack1 |displacement| ≥ 2 mm (blue)',
      'w7.crack1 |displacement| ≥ 5 mm (yellow)',
      'w7.crack1 |displacement| ≥ 10 mm (orange)',
      'w7.crack1 |displacement| ≥ 5 mm (yellow)',
      'w7.crack1 |displacement| < 4.5 mm (yellow clears)',
      'w7.crack1 |displacement| ≥ 2 mm (blue)',
    ]);
    expect(h.status('w7.crack1')).toMatchObject({ grade: 'blue', baseline: 10, displacement: -3, value: 7, unit: 'mm' });
  });
});

describe('crack grades: rate over a sliding window', () => {
  const rateGauge = () => new Harness(gauge({ rate: { window: '1h', per: 'h', blue: 0.1, yellow: 0.5, orange: 1, red: 2 } }, '10m'));

  /** Steady 0.3 mm/h for an hour, then 0.6 mm/h, then 1.2 mm/h, then still: 0.01 mm gauge resolution. */
  const increments = [...Array(6).fill(0.05), ...Array(6).fill(0.1), ...Array(6).fill(0.2), ...Array(12).fill(0)];
  const values = increments.reduce<number[]>((acc, inc) => [...acc, Math.round((acc[acc.length - 1]! + inc) * 100) / 100], [0]);

  it('no rate until the window is covered; then |S(t) − S(t − 1 h)| per hour', () => {
    const h = rateGauge();
    series(h, values.slice(0, 6), 10 * MINUTE);
    expect(h.status('w7.crack1').ratePerUnit).toBeUndefined();
    series(h, values.slice(6, 7), 10 * MINUTE);
    // t = 60 min: S = 0.30, S(0) = 0 → 0.3 mm/h: blue.
    expect(h.status('w7.crack1')).toMatchObject({ ratePerUnit: 0.3, grade: 'blue' });
  });

  it('accelerating creep: yellow when the hour holds 0.5 mm (at 100 min), orange at 1 mm (160 min); still: clears', () => {
    const h = rateGauge();
    series(h, values, 10 * MINUTE);
    const raised = h.of('crack-grade');
    // 100 min: S = 0.70, S(40 min) = 0.20 → 0.5 mm/h. 160 min: S = 1.70, S(100 min) = 0.70 → 1.0 mm/h.
    expect(raised.slice(0, 3).map((e) => [e.grade, e.monoTs, e.value])).toEqual([
      ['blue', 60 * MINUTE, 0.3],
      ['yellow', 100 * MINUTE, 0.5],
      ['orange', 160 * MINUTE, 1],
    ]);
    expect(raised[2]).toMatchObject({ unit: 'mm/h', setpoint: 1, rule: 'w7.crack1 rate ≥ 1 mm/h over 1 h (orange)' });
    // The crack stopped at 180 min: an hour later the window holds no movement.
    expect(h.status('w7.crack1')).toMatchObject({ grade: null, ratePerUnit: 0 });
    expect(grades(h).slice(3)).toEqual(['yellow', 'blue', null]);
  });

  it('the window ends at the latest reading: no flapping between half-hourly readings', () => {
    const h = new Harness(gauge({ rate: { window: '1h', per: 'h', yellow: 0.5 } }, '30m'));
    // 0.3 mm every 30 min = 0.6 mm/h, for 12 hours, ticked every minute.
    series(
      h,
      Array.from({ length: 25 }, (_, i) => Math.round(i * 0.3 * 100) / 100),
      30 * MINUTE,
    );
    expect(grades(h)).toEqual(['yellow']);
    expect(h.status('w7.crack1').ratePerUnit).toBe(0.6);
  });

  it('mm/d over a day', () => {
    const h = new Harness(gauge({ rate: { window: '1d', per: 'd', yellow: 1 } }, '6h'));
    series(h, [0, 0.3, 0.6, 0.9, 1.2], 6 * HOUR, 30 * MINUTE);
    expect(h.of('crack-grade')[0]).toMatchObject({ grade: 'yellow', value: 1.2, unit: 'mm/d', rule: 'w7.crack1 rate ≥ 1 mm/d over 1 d (yellow)' });
  });
});

describe('crack grades: improved tangent angle', () => {
  /**
   * v = 0.5 mm/d, Δt = 1 d, a reading every 6 h. Steady creep at v for 3 days, then 2, 3 and 6 mm/d a day each.
   * α = arctan(ΔT / Δt) with T = S / v: arctan(ΔS / (v · 1 d)).
   */
  const steps = [...Array(12).fill(0.125), ...Array(4).fill(0.5), ...Array(4).fill(0.75), ...Array(4).fill(1.5)];
  const values = steps.reduce<number[]>((acc, step) => [...acc, acc[acc.length - 1]! + step], [100]);
  const tangentGauge = () => new Harness(gauge({ tangent: { steadyVelocity: 0.5, window: '1d' } }, '6h'));

  it('45° in steady creep (blue), then yellow, orange, red as it accelerates, at the hand-calculated angles', () => {
    const h = tangentGauge();
    series(h, values, 6 * HOUR, 30 * MINUTE);
    const events = h.of('crack-grade');
    expect(events.map((e) => [e.grade, e.monoTs / HOUR])).toEqual([
      ['blue', 24], // day 1: ΔS = 0.5 mm → ΔT = 1 d → arctan(1) = 45°
      ['yellow', 78], // 3 d 6 h: ΔS = 3 × 0.125 + 0.5 = 0.875 → ΔT = 1.75 → 60.255°
      ['orange', 120], // day 5: ΔS = 3 mm → ΔT = 6 → 80.538°
      ['red', 144], // day 6: ΔS = 6 mm → ΔT = 12 → 85.236°
    ]);
    expect(events[0]!.value).toBeCloseTo(45, 6);
    expect(events[1]!.value).toBeCloseTo(60.2551187, 6);
    expect(events[2]!.value).toBeCloseTo(80.5376778, 6);
    expect(events[3]!.value).toBeCloseTo(85.2363583, 6);
    expect(events.map((e) => e.rule)).toEqual([
      'w7.crack1 tangent angle ≥ 44° over 1 d (v = 0.5 mm/d) (blue)',
      'w7.crack1 tangent angle ≥ 46° over 1 d (v = 0.5 mm/d) (yellow)',
      'w7.crack1 tangent angle ≥ 80° over 1 d (v = 0.5 mm/d) (orange)',
      'w7.crack1 tangent angle ≥ 85° over 1 d (v = 0.5 mm/d) (red)',
    ]);
    expect(h.status('w7.crack1')).toMatchObject({ grade: 'red', displacement: 12.5 });
  });

  it('the angle at the end of the 2 mm/d day is arctan(4) = 75.964°', () => {
    const h = tangentGauge();
    series(h, values.slice(0, 17), 6 * HOUR, 30 * MINUTE);
    expect(h.status('w7.crack1').tangentAngle).toBeCloseTo(75.9637565, 6);
    expect(h.status('w7.crack1').grade).toBe('yellow');
  });

  it('a crack that closes has a negative angle: no grade', () => {
    const h = tangentGauge();
    series(h, [100, 101, 101, 101, 101, 100.5], 6 * HOUR, HOUR);
    expect(h.status('w7.crack1').tangentAngle).toBeLessThan(0);
    expect(h.status('w7.crack1').grade).toBeNull();
  });
});

describe('crack grades: the worst criterion wins', () => {
  it('rate orange beats cumulative none, and the event names the rate', () => {
    const h = new Harness(gauge({ cumulative: { yellow: 5 }, rate: { window: '1h', orange: 1 } }));
    series(h, [0, 0, 1.5], 30 * MINUTE);
    expect(h.of('crack-grade')).toEqual([
      expect.objectContaining({ grade: 'orange', value: 1.5, unit: 'mm/h', setpoint: 1, rule: 'w7.crack1 rate ≥ 1 mm/h over 1 h (orange)' }),
    ]);
    expect([...h.engine.acceleratedDevices()]).toEqual(['crack-1']);
  });

  it('crack.accelerate replaces the gauge\'s own device; acknowledge covers the grade', () => {
    const h = new Harness(gauge({ cumulative: { yellow: 5 }, accelerate: ['crack-1', 'rain'] }));
    series(h, [0, 6], 30 * MINUTE);
    expect([...h.engine.acceleratedDevices()]).toEqual(['crack-1', 'rain']);
    expect(h.engine.acknowledge('w7.crack1', 'geologist')).toEqual({ acknowledged: ['w7.crack1'] });
    expect(h.of('alarm-acknowledged')[0]).toMatchObject({ grade: 'yellow', by: 'geologist', value: 6, unit: 'mm' });
    expect(h.status('w7.crack1').acknowledged).toBe(true);
  });

  it('a gauge in fault keeps its grade', () => {
    const h = new Harness(gauge({ cumulative: { yellow: 5 } }));
    series(h, [0, 6], 30 * MINUTE);
    for (let i = 0; i < 3; i++) h.fail('w7.crack1');
    expect(h.status('w7.crack1')).toMatchObject({ fault: true, grade: 'yellow' });
  });
});

describe('crack baseline', () => {
  it('the first good reading becomes the baseline, with an event', () => {
    const h = new Harness(gauge({ cumulative: { yellow: 5 } }));
    h.fail('w7.crack1');
    h.read('w7.crack1', 12.34);
    expect(h.of('baseline-set')).toEqual([
      expect.objectContaining({ value: 12.34, unit: 'mm', rule: 'w7.crack1 baseline taken from its first good reading' }),
    ]);
    expect(h.status('w7.crack1')).toMatchObject({ baseline: 12.34, displacement: 0 });
  });

  it('setBaseline re-sets it to the current value (R0/T0 re-taken) or to a given one; the grade follows', () => {
    const h = new Harness(gauge({ cumulative: { yellow: 5 } }));
    series(h, [10, 16], 30 * MINUTE);
    expect(h.status('w7.crack1').grade).toBe('yellow');

    expect(h.engine.setBaseline('w7.crack1', 'geologist')).toEqual({ ok: true, baseline: 16 });
    expect(h.of('baseline-set').at(-1)).toMatchObject({ value: 16, by: 'geologist', rule: 'w7.crack1 baseline set to 16 mm (its current value)' });
    expect(h.status('w7.crack1')).toMatchObject({ baseline: 16, displacement: 0, grade: null });

    expect(h.engine.setBaseline('w7.crack1', 'geologist', 9)).toEqual({ ok: true, baseline: 9 });
    expect(h.status('w7.crack1')).toMatchObject({ displacement: 7, grade: 'yellow' });
  });

  it('setBaseline is refused without a current good value, and on channels without crack grading', () => {
    const h = new Harness(
      siteWith([
        { device: 'crack-1', channels: [{ id: 'w7.crack1', register: 'd', unit: 'mm', crack: { cumulative: { yellow: 5 } } }] },
        { device: 'gas', channels: [{ id: 'tank1.co', register: 'c', unit: 'ppm', alarm: { gas: 'co' } }] },
      ]),
    );
    expect(h.engine.setBaseline('w7.crack1', 'op')).toEqual({ ok: false, error: 'w7.crack1 has no current good reading to take as the baseline' });
    h.read('w7.crack1', 1);
    for (let i = 0; i < 3; i++) h.fail('w7.crack1');
    expect(h.engine.setBaseline('w7.crack1', 'op')).toEqual({
      ok: false,
      error: 'w7.crack1 is in fault (timeout): no current value to take as the baseline',
    });
    expect(h.engine.setBaseline('tank1.co', 'op', 1)).toMatchObject({ ok: false, error: expect.stringContaining('no crack grading') });
    expect(h.engine.setBaseline('nope', 'op', 1)).toEqual({ ok: false, error: 'no channel "nope"' });
  });

  it('a fixed baseline from the site file needs no first reading and is not persisted; a command overrides it', () => {
    const h = new Harness(gauge({ baseline: 5, cumulative: { yellow: 5 } }));
    h.read('w7.crack1', 10.5);
    expect(h.status('w7.crack1')).toMatchObject({ baseline: 5, displacement: 5.5, grade: 'yellow' });
    expect(h.of('baseline-set')).toEqual([]);
    expect(h.engine.snapshot().channels['w7.crack1']?.baseline).toBeUndefined();

    h.engine.setBaseline('w7.crack1', 'op', 8);
    const after = new Harness(gauge({ baseline: 5, cumulative: { yellow: 5 } }), { restore: h.engine.snapshot() });
    expect(after.status('w7.crack1').baseline).toBe(8);
  });
});

describe('crack state across a restart', () => {
  const steady = Array.from({ length: 9 }, (_, i) => 100 + i * 0.125); // 2 days of 0.5 mm/d, a reading every 6 h

  /** Snapshot 4 h after the last reading (100.875 … 101), then 2 h down: the next reading is due right away. */
  function restarted(synced: boolean): Harness {
    const before = new Harness(gauge({ tangent: { steadyVelocity: 0.5 } }, '6h'));
    series(before, steady.slice(0, -1), 6 * HOUR, HOUR);
    before.read('w7.crack1', steady.at(-1)!);
    before.advance(4 * HOUR, HOUR);
    expect(before.status('w7.crack1')).toMatchObject({ grade: 'blue', baseline: 100 });
    const parsed = parseAlarmSnapshot(JSON.parse(JSON.stringify(before.engine.snapshot())));
    if (!parsed.ok) throw new Error(parsed.error);
    const snapshot: AlarmSnapshot = parsed.snapshot;
    expect(snapshot.channels['w7.crack1']?.crack?.history.length).toBeGreaterThan(0);
    // The new process's monotonic clock starts again at 0; only the wall clock can tell the 2 h.
    const clock = new ManualClock({ wallStart: before.clock.stamp().wallTs + 2 * HOUR, synced });
    return new Harness(gauge({ tangent: { steadyVelocity: 0.5 } }, '6h'), { restore: snapshot, clock });
  }

  it('baseline, grade and history come back; the next reading continues the same window (clock synchronised)', () => {
    const after = restarted(true);
    expect(after.status('w7.crack1')).toMatchObject({ grade: 'blue', baseline: 100 });
    expect([...after.engine.acceleratedDevices()]).toEqual(['crack-1']);
    after.read('w7.crack1', 101.125);
    // A day before now is a reading of 100.625: ΔS = 0.5 mm → ΔT = 1 d → 45°, still blue, no event.
    expect(after.status('w7.crack1').tangentAngle).toBeCloseTo(45, 6);
    expect(after.of('crack-grade')).toEqual([]);
  });

  it('with an unsynchronised clock the downtime counts as zero: the angle comes out higher, never lower', () => {
    const after = restarted(false);
    after.read('w7.crack1', 101.125);
    // The history looks 2 h younger: a day before now falls 4 h after the 100.5 reading, 2/3 of the way to
    // 100.625 → 100.5833; ΔS = 0.5417 mm → ΔT = 1.0833 d → arctan(13/12) = 47.291° (synchronised: 45°).
    expect(after.status('w7.crack1').tangentAngle).toBeCloseTo(47.2906100, 6);
    expect(after.of('crack-grade').map((e) => e.grade)).toEqual(['yellow']);
  });
});

describe('crack history stays bounded', () => {
  it('three days of one-minute readings keep at most 500 points, and the rate within 0.5 % of the truth', () => {
    const h = new Harness(gauge({ rate: { window: '1d', per: 'd', yellow: 5 } }, '1m'));
    for (let i = 0; i <= 3 * 1440; i++) {
      h.read('w7.crack1', i / 1440); // exactly 1 mm/d
      h.advance(MINUTE, MINUTE);
    }
    const history = h.engine.snapshot().channels['w7.crack1']!.crack!.history;
    expect(history.length).toBeLessThanOrEqual(500);
    expect(history.length).toBeGreaterThan(200);
    const rate = h.status('w7.crack1').ratePerUnit!;
    expect(rate).toBeGreaterThanOrEqual(1);
    expect(rate).toBeLessThan(1.005);
  });
});
