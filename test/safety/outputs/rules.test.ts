import { describe, expect, it } from 'vitest';
import { MINUTE, TestSafetyView, gasSite, harness, tankFan } from './helpers.js';

describe('output rules', () => {
  it('starts the fan at L1 and stops it only once the rule has cleared and its minimum on time is over', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([false]);

    await h.advance(5 * MINUTE);
    h.safety.set('tank1.ch4', { level: 'L1', value: 23 });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([false, true]);
    const on = h.eventsOf('output-on');
    expect(on).toHaveLength(1);
    expect(on[0]).toMatchObject({
      outputId: 'tank1.fan',
      channelId: 'tank1.ch4',
      level: 'L1',
      value: 23,
      unit: '%LEL',
      cause: 'rule: tank1.ch4 at L1 (23 %LEL)',
      rule: 'any of tank1.ch4, tank1.h2s at L1 or above',
    });

    await h.advance(3 * MINUTE);
    h.safety.set('tank1.ch4', { level: 'normal', value: 5 });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')).toMatchObject({ commanded: true, ruleWants: false });
    expect(h.controller.status('tank1.fan')?.cause).toBe('min on time (7 min left); rule: all clear');

    await h.run(7 * MINUTE - 1000);
    expect(h.driver('tank1.fan').switches).toEqual([false, true]);
    await h.run(1000);
    expect(h.driver('tank1.fan').switches).toEqual([false, true, false]);
    expect(h.eventsOf('output-off').at(-1)).toMatchObject({ cause: 'rule: all clear', value: null });
  });

  it('keeps the fan on past its minimum on time while the gas stays high', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.safety.set('tank1.h2s', { level: 'L2', latched: true, value: 16 });
    h.controller.evaluate();
    await h.run(30 * MINUTE, 10_000);
    expect(h.driver('tank1.fan').switches).toEqual([true]);
    expect(h.controller.status('tank1.fan')?.cause).toBe('rule: tank1.h2s at L2 (16 ppm)');
  });

  it('treats over-range as L2 and asks L2 conditions for L2 only', () => {
    const siren = { id: 'siren', kind: 'sounder', when: { any: [{ alarm: 'L2', channels: ['tank1.*'] }] } };
    const h = harness({ outputs: [siren], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 30 });
    h.controller.evaluate();
    expect(h.controller.status('siren')?.commanded).toBe(false);
    h.safety.set('tank1.ch4', { level: 'L1', overRange: true, value: 100 });
    h.controller.evaluate();
    expect(h.controller.status('siren')).toMatchObject({ commanded: true, cause: 'rule: tank1.ch4 at L2 (over-range) (100 %LEL)' });
  });

  it('matches patterns against the channels once, including channels found only through the pattern', () => {
    const fan = { ...tankFan, when: { any: [{ alarm: 'L1', channels: ['tank1.*'] }] } };
    const safety = gasSite().add('tank2.ch4', { unit: '%LEL' });
    const h = harness({ outputs: [fan], safety });
    h.safety.set('tank2.ch4', { level: 'L2', value: 60 });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')?.commanded).toBe(false);
    h.safety.set('tank1.h2s', { level: 'L1', value: 8 });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')?.commanded).toBe(true);
  });

  it('switches on crack grades at or above the configured grade', () => {
    const beacon = {
      id: 'beacon',
      kind: 'sounder',
      minOn: '1m',
      when: { any: [{ crack: 'orange', channels: ['rock.crack*'] }] },
    };
    const safety = new TestSafetyView().add('rock.crack1', { unit: 'mm' }).add('rock.crack2', { unit: 'mm' });
    const h = harness({ outputs: [beacon], safety });
    h.safety.set('rock.crack1', { grade: 'yellow', value: 12 });
    h.controller.evaluate();
    expect(h.controller.status('beacon')?.commanded).toBe(false);
    h.safety.set('rock.crack2', { grade: 'red', value: 40 });
    h.controller.evaluate();
    expect(h.controller.status('beacon')).toMatchObject({ commanded: true, cause: 'rule: rock.crack2 at red (40 mm)' });
    expect(h.eventsOf('output-on')[0]).toMatchObject({ grade: 'red', channelId: 'rock.crack2' });
  });

  it('reads input conditions from good contacts only (1 = on)', () => {
    const lamp = { id: 'lamp', minOff: '0s', minOn: '0s', when: { any: [{ input: 'tank1.lid', is: 'on' }] } };
    const h = harness({ outputs: [lamp] });
    h.controller.evaluate();
    expect(h.controller.status('lamp')?.commanded).toBe(false);
    h.inputs.set('tank1.lid', { value: 1, quality: 'bad' });
    h.controller.evaluate();
    expect(h.controller.status('lamp')?.commanded).toBe(false);
    h.inputs.set('tank1.lid', { value: 1, quality: 'good' });
    h.controller.evaluate();
    expect(h.controller.status('lamp')).toMatchObject({ commanded: true, cause: 'rule: tank1.lid is on' });
    h.inputs.set('tank1.lid', { value: 0, quality: 'good' });
    h.controller.evaluate();
    expect(h.controller.status('lamp')?.commanded).toBe(false);
  });

  it('does not start a fan for a probe that is warming up', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.safety.set('tank1.ch4', { warmUp: true, value: null });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([false]);
  });

  it('names every change of commanded state once, never repeating an unchanged command', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    for (let i = 0; i < 5; i++) h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([true]);
    expect(h.eventsOf('output-on')).toHaveLength(1);
  });
});
