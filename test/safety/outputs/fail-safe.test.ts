import { describe, expect, it } from 'vitest';
import { MINUTE, TestSafetyView, gasSite, harness, tankFan } from './helpers.js';

describe('fail-safe fans', () => {
  it('starts the fan when a probe of its alarm condition is in fault, and says so', () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.controller.evaluate();
    h.safety.set('tank1.h2s', { fault: true, faultReason: 'timeout', value: null });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([false, true]);
    expect(h.eventsOf('output-on')[0]).toMatchObject({ channelId: 'tank1.h2s', cause: 'fail-safe: tank1.h2s in fault (timeout)', value: null });
  });

  it('starts the fan for a probe that has given no reading at all since start', () => {
    const safety = gasSite();
    safety.set('tank1.h2s', { value: null });
    const h = harness({ outputs: [tankFan], safety });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')).toMatchObject({ commanded: true, cause: 'fail-safe: tank1.h2s has no reading yet' });
  });

  it('starts the fan for a channel the alarm engine does not know and for a pattern that matches nothing', () => {
    const fan = { ...tankFan, when: { any: [{ alarm: 'L1', channels: ['tank1.ch4', 'tank9.*'] }] } };
    const h = harness({ outputs: [fan], safety: new TestSafetyView() });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')?.cause).toBe('fail-safe: tank1.ch4 is not monitored, tank9.* matches no channel');
  });

  it('keeps the fan on when the probe dies in the middle of an alarm', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 25 });
    h.controller.evaluate();
    await h.run(MINUTE);
    // the probe goes silent: the alarm engine clears its level and declares a fault
    h.safety.set('tank1.ch4', { level: 'normal', fault: true, faultReason: 'timeout', value: null });
    await h.run(60 * MINUTE, 10_000);
    expect(h.driver('tank1.fan').switches).toEqual([true]);
    expect(h.controller.status('tank1.fan')?.cause).toBe('fail-safe: tank1.ch4 in fault (timeout)');
  });

  it('lets the fan stop after the probe is back and normal (and its minimum on time is over)', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.safety.set('tank1.ch4', { fault: true, faultReason: 'sensor-lost', value: null });
    h.controller.evaluate();
    await h.run(2 * MINUTE);
    h.safety.set('tank1.ch4', { fault: false, faultReason: undefined, value: 1 });
    await h.run(8 * MINUTE - 1000);
    expect(h.controller.status('tank1.fan')?.commanded).toBe(true);
    await h.run(1000);
    expect(h.driver('tank1.fan').switches).toEqual([true, false]);
  });

  it('does not turn a sounder or a plain relay on for a probe fault: only fans are fail-safe', () => {
    const siren = { id: 'siren', kind: 'sounder', when: { any: [{ alarm: 'L2', channels: ['tank1.*'] }] } };
    const relay = { id: 'relay', kind: 'relay', when: { any: [{ alarm: 'L1', channels: ['tank1.*'] }] } };
    const h = harness({ outputs: [siren, relay], safety: gasSite() });
    h.safety.set('tank1.ch4', { fault: true, value: null });
    h.controller.evaluate();
    expect(h.controller.status('siren')?.commanded).toBe(false);
    expect(h.controller.status('relay')?.commanded).toBe(false);
  });

  it('switches any output on for a fault where the rule asks for it', () => {
    const lamp = { id: 'fault.lamp', when: { any: [{ fault: true, channels: ['tank1.*'] }] } };
    const h = harness({ outputs: [lamp], safety: gasSite() });
    h.safety.set('tank1.h2s', { fault: true, faultReason: 'needs-calibration', value: null });
    h.controller.evaluate();
    expect(h.controller.status('fault.lamp')).toMatchObject({ commanded: true, cause: 'rule: tank1.h2s in fault (needs-calibration)' });
  });
});

describe('minimum off time', () => {
  it('never delays a fan start for a safety reason', async () => {
    const h = harness({ outputs: [{ ...tankFan, minOn: '1m', minOff: '30m' }], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 21 });
    h.controller.evaluate();
    await h.advance(MINUTE);
    h.safety.set('tank1.ch4', { level: 'normal', value: 3 });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([true, false]);

    await h.advance(1000);
    h.safety.set('tank1.h2s', { level: 'L1', value: 8 });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([true, false, true]);

    await h.advance(MINUTE);
    h.safety.set('tank1.h2s', { level: 'normal', value: 1 });
    h.controller.evaluate();
    await h.advance(1000);
    h.safety.set('tank1.h2s', { fault: true, faultReason: 'crc', value: null });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([true, false, true, false, true]);
  });

  it('holds a fan off for its minimum off time when only a contact asks for it', async () => {
    const fan = {
      ...tankFan,
      minOn: '1m',
      minOff: '2m',
      when: { any: [{ alarm: 'L1', channels: ['tank1.ch4'] }, { input: 'tank1.fan.switch', is: 'on' }] },
    };
    const h = harness({ outputs: [fan], safety: gasSite() });
    h.controller.evaluate();
    h.inputs.set('tank1.fan.switch', { value: 1, quality: 'good' });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([false]);
    expect(h.controller.status('tank1.fan')?.cause).toBe('min off time (2 min left); then rule: tank1.fan.switch is on');
    await h.run(2 * MINUTE);
    expect(h.driver('tank1.fan').switches).toEqual([false, true]);
  });

  it('holds a plain relay off for its minimum off time even for an alarm', async () => {
    const relay = { id: 'beacon', kind: 'relay', minOn: '0s', minOff: '2m', when: { any: [{ alarm: 'L1', channels: ['tank1.ch4'] }] } };
    const h = harness({ outputs: [relay], safety: gasSite() });
    // no persisted state: starts in its safe state (off), which does not hold back the first start
    h.safety.set('tank1.ch4', { level: 'L1', value: 21 });
    h.controller.evaluate();
    await h.advance(1000);
    h.safety.set('tank1.ch4', { level: 'normal', value: 1 });
    h.controller.evaluate();
    await h.advance(1000);
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    // off at 1 s: min off until 2 min 1 s
    await h.run(2 * MINUTE - 2000);
    expect(h.driver('beacon').switches).toEqual([false, true, false]);
    expect(h.controller.status('beacon')?.cause).toBe('min off time (1 s left); then rule: tank1.ch4 at L1 (22 %LEL)');
    await h.run(1000);
    expect(h.driver('beacon').switches).toEqual([false, true, false, true]);
  });
});
