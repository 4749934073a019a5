import { describe, expect, it } from 'vitest';
import { MINUTE, gasSite, harness, tankFan } from './helpers.js';

const fanWithFeedback = {
  ...tankFan,
  feedback: { channel: 'tank1.fan.running', within: '10s', retries: 2 },
};

describe('feedback', () => {
  it('is pending until the read-back follows, then ok', async () => {
    const h = harness({ outputs: [fanWithFeedback], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    await h.settle();
    expect(h.controller.status('tank1.fan')?.feedback).toBe('pending');
    await h.advance(2000);
    h.inputs.set('tank1.fan.running', { value: 1, quality: 'good', monoTs: 2000 });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')?.feedback).toBe('ok');
    await h.run(5 * MINUTE);
    expect(h.driver('tank1.fan').switches).toEqual([true]);
    expect(h.eventsOf('output-failed')).toHaveLength(0);
  });

  it('retries, reports output-failed once, keeps trying, and reports the recovery', async () => {
    const h = harness({ outputs: [fanWithFeedback], safety: gasSite() });
    h.inputs.set('tank1.fan.running', { value: 0, quality: 'good', monoTs: 0 });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();

    await h.run(10_000);
    expect(h.driver('tank1.fan').states).toEqual([true, true]);
    await h.run(10_000);
    expect(h.driver('tank1.fan').states).toEqual([true, true, true]);
    expect(h.eventsOf('output-failed')).toHaveLength(0);
    await h.run(10_000);
    const failed = h.eventsOf('output-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      outputId: 'tank1.fan',
      monoTs: 30_000,
      cause: 'feedback tank1.fan.running did not follow "on" within 10 s (3 attempts)',
    });
    expect(h.controller.status('tank1.fan')?.feedback).toBe('failed');

    // the controller keeps trying, slowly, without repeating the event
    await h.run(5 * MINUTE);
    expect(h.driver('tank1.fan').writes.map((w) => w.atMono)).toEqual([0, 10_000, 20_000, 90_000, 150_000, 210_000, 270_000, 330_000]);
    expect(h.eventsOf('output-failed')).toHaveLength(1);

    h.inputs.set('tank1.fan.running', { value: 1, quality: 'good', monoTs: h.clock.now() });
    h.controller.evaluate();
    expect(h.eventsOf('output-recovered')).toHaveLength(1);
    expect(h.eventsOf('output-recovered')[0]?.cause).toBe('feedback tank1.fan.running follows "on" again');
    expect(h.controller.status('tank1.fan')?.feedback).toBe('ok');
    expect(h.controller.status('tank1.fan')?.commanded).toBe(true);
  });

  it('does not take a read-back from before the command as proof', async () => {
    const h = harness({ outputs: [{ ...fanWithFeedback, minOn: '0s', minOff: '0s' }], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    h.inputs.set('tank1.fan.running', { value: 1, quality: 'good', monoTs: 500 });
    await h.advance(1000);
    h.safety.set('tank1.ch4', { level: 'normal', value: 1 });
    h.controller.evaluate();
    await h.advance(1000);
    h.safety.set('tank1.ch4', { level: 'L1', value: 23 });
    h.controller.evaluate();
    // the contact still says "on" from 500 ms, before the fan was stopped and started again
    expect(h.controller.status('tank1.fan')?.feedback).toBe('pending');
  });

  it('notices a read-back that drops away later (a tripped contactor) and re-commands', async () => {
    const h = harness({ outputs: [fanWithFeedback], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    await h.advance(2000);
    h.inputs.set('tank1.fan.running', { value: 1, quality: 'good', monoTs: 2000 });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')?.feedback).toBe('ok');

    await h.advance(MINUTE);
    h.inputs.set('tank1.fan.running', { value: 0, quality: 'good', monoTs: h.clock.now() });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')?.feedback).toBe('pending');
    await h.run(10_000);
    expect(h.driver('tank1.fan').states).toEqual([true, true]);
  });

  it('counts a driver write error like a missing read-back', async () => {
    const relay = { id: 'siren', kind: 'sounder', when: { any: [{ alarm: 'L2', channels: ['tank1.*'] }] } };
    const h = harness({ outputs: [relay], safety: gasSite() });
    h.controller.evaluate();
    await h.settle();
    h.driver('siren').answer = () => ({ ok: false, error: 'coil relay_2 of tank1-relays: timeout (no answer in 500 ms)' });
    h.safety.set('tank1.ch4', { level: 'L2', value: 60 });
    h.controller.evaluate();
    await h.settle();
    expect(h.controller.status('siren')).toMatchObject({
      commanded: true,
      feedback: 'none',
      delivery: 'pending',
      lastWriteError: 'coil relay_2 of tank1-relays: timeout (no answer in 500 ms)',
    });
    await h.run(30_000);
    expect(h.driver('siren').states).toEqual([false, true, true, true]);
    expect(h.eventsOf('output-failed')[0]?.cause).toBe(
      'test line siren: last write failed: coil relay_2 of tank1-relays: timeout (no answer in 500 ms) (3 attempts)',
    );

    h.driver('siren').answer = () => ({ ok: true });
    await h.run(MINUTE);
    expect(h.eventsOf('output-recovered')).toHaveLength(1);
    expect(h.controller.status('siren')?.delivery).toBe('ok');
    expect(h.controller.status('siren')?.lastWriteError).toBeUndefined();
  });

  it('treats a driver that throws as a failed write, not a crash of the safety loop', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.driver('tank1.fan').answer = () => {
      throw new Error('line busy');
    };
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    expect(() => h.controller.evaluate()).not.toThrow();
    await h.settle();
    expect(h.controller.status('tank1.fan')).toMatchObject({ commanded: true, lastWriteError: 'line busy' });
  });
});
