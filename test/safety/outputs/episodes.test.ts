import { describe, expect, it } from 'vitest';
import { MINUTE, gasSite, harness, tankFan } from './helpers.js';

describe('persistent exceedance', () => {
  it('is reported once per episode, after the rule has kept the fan on that long', async () => {
    const h = harness({ outputs: [{ ...tankFan, persistentAfter: '30m' }], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 24 });
    h.controller.evaluate();
    await h.run(30 * MINUTE - 10_000, 10_000);
    expect(h.eventsOf('persistent-exceedance')).toHaveLength(0);
    await h.run(60 * MINUTE, 10_000);
    const events = h.eventsOf('persistent-exceedance');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      outputId: 'tank1.fan',
      channelId: 'tank1.ch4',
      monoTs: 30 * MINUTE,
      cause: 'on for 30 min by its rule: rule: tank1.ch4 at L1 (24 %LEL)',
    });

    // a new episode: the gas clears, the fan stops, the gas comes back
    h.safety.set('tank1.ch4', { level: 'normal', value: 2 });
    await h.run(MINUTE);
    expect(h.controller.status('tank1.fan')?.commanded).toBe(false);
    h.safety.set('tank1.ch4', { level: 'L1', value: 21 });
    h.controller.evaluate();
    await h.run(30 * MINUTE, 10_000);
    expect(h.eventsOf('persistent-exceedance')).toHaveLength(2);
  });

  it('is not reported for a fan the rule has not kept on (forced on by an operator)', async () => {
    const h = harness({ outputs: [{ ...tankFan, persistentAfter: '30m' }], safety: gasSite() });
    h.controller.evaluate();
    h.controller.force('tank1.fan', 'on', 2 * 60 * MINUTE, 'alice');
    await h.run(60 * MINUTE, 10_000);
    expect(h.eventsOf('persistent-exceedance')).toHaveLength(0);
  });
});

describe('interlock (non-Ex fan)', () => {
  const nonExFan = {
    ...tankFan,
    minOn: '1m',
    interlock: { alarm: 'L2', channels: ['tank1.ch4'] },
  };

  it('does not start the fan while CH4 is at L2 and escalates once per episode', async () => {
    const h = harness({ outputs: [nonExFan], safety: gasSite() });
    h.controller.evaluate();
    h.safety.set('tank1.ch4', { level: 'L2', latched: true, value: 60 });
    h.controller.evaluate();
    await h.run(5 * MINUTE);
    expect(h.driver('tank1.fan').switches).toEqual([false]);
    expect(h.controller.status('tank1.fan')).toMatchObject({
      commanded: false,
      ruleWants: true,
      interlock: 'tank1.ch4 at L2 (60 %LEL)',
      cause: 'interlock: tank1.ch4 at L2 (60 %LEL); not started (rule: tank1.ch4 at L2 (60 %LEL)): escalate',
    });
    const interlocks = h.eventsOf('interlock');
    expect(interlocks).toHaveLength(1);
    expect(interlocks[0]).toMatchObject({ channelId: 'tank1.ch4', level: 'L2', value: 60, rule: 'not started while tank1.ch4 at L2 or above' });

    h.safety.set('tank1.ch4', { level: 'L1', latched: false, value: 30 });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([false, true]);

    h.safety.set('tank1.ch4', { level: 'normal', value: 1 });
    await h.run(MINUTE);
    h.safety.set('tank1.ch4', { level: 'L2', latched: true, value: 70 });
    await h.run(MINUTE);
    expect(h.eventsOf('interlock')).toHaveLength(2);
  });

  it('keeps a fan that is already running on when CH4 climbs to L2, and says so', () => {
    const h = harness({ outputs: [nonExFan], safety: gasSite() });
    h.safety.set('tank1.h2s', { level: 'L1', value: 9 });
    h.controller.evaluate();
    h.safety.set('tank1.ch4', { level: 'L2', value: 52 });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([true]);
    expect(h.eventsOf('interlock')[0]?.cause).toBe(
      'interlock: tank1.ch4 at L2 (52 %LEL); tank1.fan already running: kept on (switching it off is a spark as well); escalate',
    );
  });

  it('holds the interlock on a latched L2 even when the probe has since failed', () => {
    const h = harness({ outputs: [nonExFan], safety: gasSite() });
    h.controller.evaluate();
    h.safety.set('tank1.ch4', { level: 'L2', latched: true, fault: true, faultReason: 'sensor-lost', value: null });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')?.commanded).toBe(false);
  });

  it('refuses to force the fan on during the interlock', () => {
    const h = harness({ outputs: [nonExFan], safety: gasSite() });
    h.controller.evaluate();
    h.safety.set('tank1.ch4', { level: 'L2', value: 60 });
    const result = h.controller.force('tank1.fan', 'on', MINUTE, 'alice');
    expect(result).toEqual({
      ok: false,
      error: 'interlock: tank1.ch4 at L2 (60 %LEL); tank1.fan is not started while tank1.ch4 at L2 or above (escalate instead)',
    });
    expect(h.driver('tank1.fan').switches).toEqual([false]);
  });
});
