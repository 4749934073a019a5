import { describe, expect, it } from 'vitest';
import { MINUTE, gasSite, harness, tankFan } from './helpers.js';

const fan = { ...tankFan, maxOverride: '1h', minOn: '10m' };

describe('manual override', () => {
  it('forces an output on with an expiry, then hands it back to the rule by itself', async () => {
    const h = harness({ outputs: [fan], safety: gasSite() });
    h.controller.evaluate();
    const result = h.controller.force('tank1.fan', 'on', 30 * MINUTE, 'alice');
    expect(result).toEqual({ ok: true, until: 30 * MINUTE });
    expect(h.driver('tank1.fan').switches).toEqual([false, true]);
    expect(h.eventsOf('override-set')[0]).toMatchObject({ by: 'alice', cause: 'forced on by alice for 30 min' });
    expect(h.eventsOf('output-on')[0]).toMatchObject({ by: 'alice', cause: 'forced on by alice, 30 min left' });
    expect(h.controller.status('tank1.fan')?.override).toEqual({ state: 'on', untilMono: 30 * MINUTE, by: 'alice', remainingMs: 30 * MINUTE });

    await h.run(30 * MINUTE - 1000);
    expect(h.eventsOf('override-expired')).toHaveLength(0);
    await h.run(1000);
    expect(h.eventsOf('override-expired')[0]).toMatchObject({ by: 'alice', cause: 'force on by alice expired' });
    expect(h.controller.status('tank1.fan')?.override).toBeUndefined();
    expect(h.driver('tank1.fan').switches).toEqual([false, true, false]);
  });

  it('expires by monotonic time: a wall-clock jump changes nothing', async () => {
    const h = harness({ outputs: [fan], safety: gasSite() });
    h.controller.evaluate();
    h.controller.force('tank1.fan', 'on', 10 * MINUTE, 'alice');
    h.clock.setWall(Date.UTC(2030, 0, 1));
    await h.run(MINUTE);
    expect(h.controller.status('tank1.fan')?.override?.state).toBe('on');
  });

  it('refuses a force without an expiry, with a zero one, or longer than maxOverride', () => {
    const h = harness({ outputs: [fan], safety: gasSite() });
    for (const forMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, undefined as unknown as number]) {
      const result = h.controller.force('tank1.fan', 'on', forMs, 'alice');
      expect(result).toEqual({ ok: false, error: 'a force needs an expiry: give a duration above 0, at most 1 h for tank1.fan' });
    }
    expect(h.controller.force('tank1.fan', 'on', 61 * MINUTE, 'alice')).toEqual({
      ok: false,
      error: '1 h 1 min is longer than tank1.fan may be forced (maxOverride 1 h)',
    });
    expect(h.controller.force('nope', 'on', MINUTE, 'alice')).toEqual({ ok: false, error: 'no output "nope"' });
    expect(h.controller.force('tank1.fan', 'on', MINUTE, ' ')).toEqual({ ok: false, error: 'say who forces it (by)' });
    expect(h.eventsOf('override-set')).toHaveLength(0);
    expect(h.driver('tank1.fan').writes).toHaveLength(0);
  });

  it('lets an operator force a fan OFF while the gas is at L2, and the events say so', () => {
    const h = harness({ outputs: [fan], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L2', latched: true, value: 55 });
    h.controller.evaluate();
    expect(h.controller.force('tank1.fan', 'off', 15 * MINUTE, 'bob').ok).toBe(true);
    expect(h.driver('tank1.fan').switches).toEqual([true, false]);
    expect(h.eventsOf('override-set')[0]?.cause).toBe(
      "forced off by bob for 15 min while the rule wants it on (tank1.ch4 at L2 (55 %LEL)): the operator's explicit decision",
    );
    expect(h.eventsOf('override-set')[0]).toMatchObject({ channelId: 'tank1.ch4', level: 'L2', value: 55 });
    expect(h.eventsOf('output-off')[0]?.cause).toBe('forced off by bob, 15 min left; rule wants on: rule: tank1.ch4 at L2 (55 %LEL)');
    expect(h.controller.status('tank1.fan')?.ruleWants).toBe(true);
  });

  it('wins over the minimum on time, and the rule takes over when cleared', () => {
    const h = harness({ outputs: [fan], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    h.controller.force('tank1.fan', 'off', 5 * MINUTE, 'bob');
    expect(h.controller.status('tank1.fan')?.commanded).toBe(false);
    expect(h.controller.clearOverride('tank1.fan', 'carol')).toEqual({ ok: true });
    expect(h.eventsOf('override-cleared')[0]).toMatchObject({ by: 'carol', cause: 'force off by bob cleared by carol' });
    expect(h.driver('tank1.fan').switches).toEqual([true, false, true]);
    expect(h.controller.clearOverride('tank1.fan', 'carol')).toEqual({ ok: false, error: 'tank1.fan is not forced' });
  });

  it('cannot force the "system healthy" output', () => {
    const h = harness({ outputs: [{ id: 'ok.lamp', kind: 'healthy' }] });
    const result = h.controller.force('ok.lamp', 'on', MINUTE, 'alice');
    expect(result.ok).toBe(false);
  });
});
