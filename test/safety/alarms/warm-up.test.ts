import { describe, expect, it } from 'vitest';
import { WARM_UP_LIMIT_MS } from '../../../agent/safety/alarms/index.js';
import { Harness, oneChannel } from './harness.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const ch4 = () => new Harness(oneChannel({ id: 'tank1.ch4', register: 'c', unit: '%LEL', alarm: { gas: 'ch4' } }));

describe('warm-up has a time limit', () => {
  it('is 10 minutes by default', () => {
    expect(WARM_UP_LIMIT_MS).toBe(10 * MINUTE);
  });

  it('a probe stuck in warm-up goes to fault after the limit, with the reason and a fault event', () => {
    const h = ch4();
    // Just short of the limit: still an ordinary warm-up.
    h.poll('tank1.ch4', 599, SECOND, () => 0, { reason: 'warm-up', detail: 'status 0x0 (warm-up)' });
    expect(h.status('tank1.ch4')).toMatchObject({ warmUp: true, fault: false });
    expect(h.of('fault')).toEqual([]);

    h.poll('tank1.ch4', 2, SECOND, () => 0, { reason: 'warm-up' });
    expect(h.status('tank1.ch4')).toMatchObject({ warmUp: true, fault: true, faultReason: 'warm-up too long (10 min)' });
    expect(h.of('fault')).toHaveLength(1);
    expect(h.of('fault')[0]!.rule).toBe('tank1.ch4 in fault: warm-up too long (10 min)');

    // More warm-up readings keep the fault, and raise no second event.
    h.poll('tank1.ch4', 60, SECOND, () => 0, { reason: 'warm-up' });
    expect(h.status('tank1.ch4')).toMatchObject({ fault: true, faultReason: 'warm-up too long (10 min)' });
    expect(h.of('fault')).toHaveLength(1);

    // The first good reading ends both.
    h.read('tank1.ch4', 3);
    expect(h.status('tank1.ch4')).toMatchObject({ warmUp: false, fault: false });
    expect(h.of('fault-cleared')).toHaveLength(1);
    expect(h.of('warm-up-done')).toHaveLength(1);
  });

  it('counts from the first warm-up reading, not from start-up', () => {
    const h = ch4();
    h.poll('tank1.ch4', 300, SECOND, () => 2);
    h.poll('tank1.ch4', 599, SECOND, () => 0, { reason: 'warm-up' });
    expect(h.status('tank1.ch4')).toMatchObject({ warmUp: true, fault: false });
    h.poll('tank1.ch4', 1, SECOND, () => 0, { reason: 'warm-up' });
    expect(h.status('tank1.ch4')).toMatchObject({ fault: true, faultReason: 'warm-up too long (10 min)' });
  });

  it('the tick enforces the limit between slow readings', () => {
    // Polled every 5 min: silent only after 25 min, so only the limit can end this warm-up at 10 min.
    const h = new Harness(oneChannel({ id: 'tank1.ch4', register: 'c', unit: '%LEL', alarm: { gas: 'ch4' } }, 'dev1', '5m'));
    h.read('tank1.ch4', 0, { reason: 'warm-up' });
    h.advance(5 * MINUTE);
    h.read('tank1.ch4', 0, { reason: 'warm-up' });
    h.advance(5 * MINUTE - SECOND);
    expect(h.status('tank1.ch4').fault).toBe(false);
    h.advance(SECOND);
    expect(h.status('tank1.ch4')).toMatchObject({ warmUp: true, fault: true, faultReason: 'warm-up too long (10 min)' });
  });

  it('a warm-up that ends within the limit, and a new one later, each get the full limit', () => {
    const h = ch4();
    h.poll('tank1.ch4', 540, SECOND, () => 0, { reason: 'warm-up' });
    h.poll('tank1.ch4', 5, SECOND, () => 1);
    h.poll('tank1.ch4', 540, SECOND, () => 0, { reason: 'warm-up' });
    expect(h.status('tank1.ch4')).toMatchObject({ warmUp: true, fault: false });
    expect(h.of('warm-up')).toHaveLength(2);
  });

  it('fails safe: a raised level is kept and no warm-up reading clears it', () => {
    const h = ch4();
    h.poll('tank1.ch4', 10, SECOND, () => 60);
    expect(h.status('tank1.ch4').level).toBe('L2');
    h.poll('tank1.ch4', 700, SECOND, () => 0, { reason: 'warm-up' });
    expect(h.status('tank1.ch4')).toMatchObject({ level: 'L2', fault: true, faultReason: 'warm-up too long (10 min)' });
  });
});
