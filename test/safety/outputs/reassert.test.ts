import { describe, expect, it } from 'vitest';
import { REASSERT_MS } from '../../../agent/safety/outputs/index.js';
import { MINUTE, gasSite, harness, tankFan } from './helpers.js';

/** The coil of the fan is polled as a channel of its own: the read-back of the output without a contact. */
const COIL = 'tank1-relays.relay_1';

describe('re-assert and read-back (relay board that resets)', () => {
  it('re-writes the commanded state every REASSERT_MS, without feedback or read-back', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    await h.run(2 * REASSERT_MS + 1000);
    expect(REASSERT_MS).toBe(30_000);
    expect(h.driver('tank1.fan').writes.map((w) => [w.on, w.atMono])).toEqual([
      [true, 0],
      [true, REASSERT_MS],
      [true, 2 * REASSERT_MS],
    ]);
    expect(h.controller.status('tank1.fan')?.delivery).toBe('ok');
    expect(h.eventsOf('output-on')).toHaveLength(1);
  });

  it('a read-back that disagrees with a confirmed command: pending, retries, output-failed, recovered', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite(), readback: { 'tank1.fan': COIL } });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    await h.settle();
    h.inputs.set(COIL, { value: 1, quality: 'good', monoTs: 500 });
    await h.run(2000);
    expect(h.controller.status('tank1.fan')?.delivery).toBe('ok');

    // brownout: the board resets, the coil reads 0 while we still command on; the board ignores the writes
    h.driver('tank1.fan').answer = () => ({ ok: true });
    h.inputs.set(COIL, { value: 0, quality: 'good', monoTs: h.clock.now() });
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')).toMatchObject({ commanded: true, delivery: 'pending' });
    const keepReadingOff = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += 1000) {
        h.inputs.set(COIL, { value: 0, quality: 'good', monoTs: h.clock.now() });
        await h.run(1000);
      }
    };
    await keepReadingOff(40_000);
    expect(h.eventsOf('output-failed')).toHaveLength(1);
    expect(h.controller.status('tank1.fan')?.delivery).toBe('failed');
    expect(h.driver('tank1.fan').states.every((on) => on)).toBe(true);

    // the board hears us again: the coil reads 1 after a write
    await h.run(MINUTE);
    h.inputs.set(COIL, { value: 1, quality: 'good', monoTs: h.clock.now() });
    h.controller.evaluate();
    expect(h.eventsOf('output-recovered')).toHaveLength(1);
    expect(h.controller.status('tank1.fan')?.delivery).toBe('ok');
  });

  it('does not take a read-back from before the write as a disagreement', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite(), readback: { 'tank1.fan': COIL } });
    h.inputs.set(COIL, { value: 0, quality: 'good', monoTs: 0 });
    await h.advance(1000);
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    await h.settle();
    h.controller.evaluate();
    expect(h.controller.status('tank1.fan')?.delivery).toBe('ok');
  });

  it('asks the driver for a standing failure (a GPIO line that is gone)', async () => {
    const h = harness({ outputs: [tankFan], safety: gasSite() });
    h.safety.set('tank1.ch4', { level: 'L1', value: 22 });
    h.controller.evaluate();
    await h.run(1000);
    expect(h.controller.status('tank1.fan')?.delivery).toBe('ok');
    h.driver('tank1.fan').standing = 'GPIO pinctrl-bcm2711:17: line released by another process';
    await h.run(40_000);
    expect(h.controller.status('tank1.fan')).toMatchObject({
      delivery: 'failed',
      lastWriteError: 'GPIO pinctrl-bcm2711:17: line released by another process',
    });
    expect(h.eventsOf('output-failed')[0]?.cause).toContain('line released by another process');
    h.driver('tank1.fan').standing = null;
    await h.run(MINUTE);
    expect(h.eventsOf('output-recovered')).toHaveLength(1);
    expect(h.controller.status('tank1.fan')?.delivery).toBe('ok');
  });
});
