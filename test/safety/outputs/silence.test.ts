import { describe, expect, it } from 'vitest';
import { MINUTE, gasSite, harness, tankFan } from './helpers.js';

const siren = {
  id: 'tank1.siren',
  kind: 'sounder',
  minOn: '10m',
  minOff: '2m',
  when: { any: [{ alarm: 'L1', channels: ['tank1.*'] }] },
};

describe('silence', () => {
  it('turns sounding sounders off at once and leaves fans alone', () => {
    const h = harness({ outputs: [siren, tankFan], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    expect(h.controller.silence('dave')).toEqual({ silenced: ['tank1.siren'] });
    expect(h.driver('tank1.siren').switches).toEqual([false, true, false]);
    expect(h.driver('tank1.fan').switches).toEqual([true]);
    expect(h.eventsOf('silenced')[0]).toMatchObject({ outputId: 'tank1.siren', by: 'dave' });
    expect(h.controller.status('tank1.siren')).toMatchObject({ silenced: true, ruleWants: true, cause: 'silenced by dave until a new alarm' });
  });

  it('stays silent while the same alarm goes on, and while it falls back a level', async () => {
    const h = harness({ outputs: [siren], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L2', latched: true, value: 55 });
    h.controller.evaluate();
    h.controller.silence('dave');
    await h.run(10 * MINUTE, 10_000);
    h.safety.set('tank1.ch4', { level: 'L1', latched: false, value: 30 });
    await h.run(MINUTE);
    expect(h.driver('tank1.siren').switches).toEqual([false, true, false]);
  });

  it('sounds again on a higher level of the same channel, at once', async () => {
    const h = harness({ outputs: [siren], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    h.controller.silence('dave');
    await h.advance(10_000);
    h.safety.set('tank1.ch4', { level: 'L2', value: 51 });
    h.controller.evaluate();
    expect(h.driver('tank1.siren').switches).toEqual([false, true, false, true]);
    expect(h.controller.status('tank1.siren')?.silenced).toBe(false);
    expect(h.eventsOf('output-on').at(-1)?.cause).toBe('rule: tank1.ch4 at L2 (51 %LEL) (new alarm after silence)');
  });

  it('sounds again when another channel of its rule raises an alarm', async () => {
    const h = harness({ outputs: [siren], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    h.controller.silence('dave');
    await h.advance(10_000);
    h.safety.set('tank1.h2s', { level: 'L1', value: 8 });
    h.controller.evaluate();
    expect(h.controller.status('tank1.siren')?.commanded).toBe(true);
  });

  it('sounds again when the silenced alarm clears and is raised anew', async () => {
    const h = harness({ outputs: [siren], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    h.controller.silence('dave');
    await h.advance(10_000);
    h.safety.set('tank1.ch4', { level: 'normal', value: 10 });
    h.controller.evaluate();
    await h.advance(10_000);
    h.safety.set('tank1.ch4', { level: 'L1', value: 21 });
    h.controller.evaluate();
    expect(h.driver('tank1.siren').switches).toEqual([false, true, false, true]);
  });

  it('has nothing to silence when nothing sounds', () => {
    const h = harness({ outputs: [siren], safety: gasSite() });
    h.controller.evaluate();
    expect(h.controller.silence('dave')).toEqual({ silenced: [] });
    expect(h.eventsOf('silenced')).toHaveLength(0);
  });
});
