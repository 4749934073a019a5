import { describe, expect, it } from 'vitest';
import type { OutputSnapshot } from '../../../agent/safety/outputs/index.js';
import { TestSafetyView, gasSite, harness, tankFan } from './helpers.js';

const nonExFan = { ...tankFan, minOn: '1m', interlock: { alarm: 'L2', channels: ['tank1.ch4'] } };

/** ch4 registered with the alarm engine but not heard from yet (no value, no warm-up, no fault). */
function siteBeforeFirstPoll(): TestSafetyView {
  return new TestSafetyView().add('tank1.ch4', { unit: '%LEL', value: null }).add('tank1.h2s', { unit: 'ppm', value: null });
}

describe('interlock at start-up and while the interlock channel is unknown', () => {
  it('onStartup safe: a non-Ex fan starts OFF, not in its safe state ON', () => {
    const h = harness({ outputs: [{ ...nonExFan, onStartup: 'safe' }], safety: siteBeforeFirstPoll() });
    expect(h.driver('tank1.fan').states).toEqual([false]);
    expect(h.controller.status('tank1.fan')?.commanded).toBe(false);
  });

  it('onStartup persisted (was on): starts OFF and does not run on while CH4 is at L2', () => {
    const restore: OutputSnapshot = { version: 1, outputs: { 'tank1.fan': { commanded: true, cause: 'rule: tank1.ch4 at L1' } } };
    const h = harness({ outputs: [{ ...nonExFan, onStartup: 'persisted' }], safety: siteBeforeFirstPoll(), restore });
    expect(h.driver('tank1.fan').states).toEqual([false]);
    h.safety.set('tank1.ch4', { level: 'L2', value: 60 });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([false]);
    expect(h.eventsOf('interlock')[0]?.cause).toContain('tank1.fan not started');
  });

  it('a restored force ON does not start a fan past the interlock', () => {
    const restore: OutputSnapshot = {
      version: 1,
      outputs: { 'tank1.fan': { commanded: true, cause: 'forced', override: { state: 'on', remainingMs: 600_000, by: 'alice' } } },
    };
    const safety = gasSite();
    safety.set('tank1.ch4', { level: 'L2', value: 60 });
    const h = harness({ outputs: [nonExFan], safety, restore });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).not.toContain(true);
  });

  it('holds while the interlock channel has no reading yet, escalates, then starts once CH4 is known below L2', async () => {
    const h = harness({ outputs: [{ ...nonExFan, onStartup: 'safe' }], safety: siteBeforeFirstPoll() });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')).toMatchObject({ commanded: false, ruleWants: true });
    expect(h.controller.status('tank1.fan')?.interlock).toBe('tank1.ch4 has no reading yet');
    const events = h.eventsOf('interlock');
    expect(events).toHaveLength(1);
    expect(events[0]?.cause).toBe('interlock: tank1.ch4 has no reading yet; tank1.fan not started; escalate');

    h.safety.set('tank1.ch4', { value: 3 });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([false, true]);
  });

  it('holds while the interlock channel is in fault (methane below L2 cannot be known)', () => {
    const h = harness({ outputs: [nonExFan], safety: gasSite() });
    h.controller.evaluate();
    h.safety.set('tank1.ch4', { fault: true, faultReason: 'timeout', value: null });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([false]);
    expect(h.eventsOf('interlock')[0]?.cause).toBe('interlock: tank1.ch4 in fault (timeout); tank1.fan not started; escalate');
    expect(h.controller.force('tank1.fan', 'on', 60_000, 'alice').ok).toBe(false);
  });

  it('holds while the interlock channel is warming up', () => {
    const h = harness({ outputs: [{ ...nonExFan, onStartup: 'safe' }], safety: gasSite() });
    h.safety.set('tank1.ch4', { warmUp: true });
    h.safety.set('tank1.h2s', { level: 'L1', value: 12 });
    h.controller.evaluate();
    expect(h.driver('tank1.fan').switches).toEqual([false]);
    expect(h.controller.status('tank1.fan')?.interlock).toBe('tank1.ch4 warming up');
  });

  it('onStartup hold: nothing is written while the interlock holds', () => {
    const h = harness({ outputs: [nonExFan], safety: siteBeforeFirstPoll() });
    h.controller.evaluate();
    // the rule (fail-safe) wants it on, the interlock holds: nothing written, no "off" either
    expect(h.driver('tank1.fan').writes).toHaveLength(0);
    expect(h.controller.status('tank1.fan')?.commanded).toBeNull();
  });
});
