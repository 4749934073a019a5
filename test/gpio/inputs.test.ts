import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gpioInput } from '../../config/schema/index.js';
import type { Reading } from '../../drivers/reading.js';
import { createGpioBackend, GpioInputs, SimulatedGpio } from '../../drivers/gpio/index.js';
import { fakeTimeClock } from './support/fake-time-clock.js';

const CHIP = 'pinctrl-bcm2711';

/** The lid contact of tank 1 (closed = on) and a tipping-bucket rain gauge on a reed switch to ground. */
const LID = gpioInput.parse({ id: 'tank1.lid', line: { line: 'GPIO17' }, kind: 'contact', debounce: '50ms', interval: '5s' });
const RAIN = gpioInput.parse({
  id: 'site.rain',
  line: { chip: CHIP, line: 27, activeLow: true },
  kind: 'counter',
  debounce: '20ms',
  interval: '10s',
  perPulse: 0.2,
  unit: 'mm',
});

interface Rig {
  sim: SimulatedGpio;
  inputs: GpioInputs;
  published: Reading[];
  of(channelId: string): Reading[];
}

async function rig(specs = [LID, RAIN], prepare?: (sim: SimulatedGpio) => void): Promise<Rig> {
  const sim = SimulatedGpio.raspberryPi4();
  sim.setInput(CHIP, 27, true); // the rain gauge's pull-up holds the wire high between tips
  prepare?.(sim);
  const backend = await createGpioBackend('simulated', { simulated: sim });
  const published: Reading[] = [];
  const inputs = new GpioInputs(specs, backend, fakeTimeClock(), (readings) => published.push(...readings));
  return { sim, inputs, published, of: (channelId) => published.filter((reading) => reading.channelId === channelId) };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('GPIO contacts', () => {
  it('report every channel once at start', async () => {
    const { inputs, published } = await rig();
    await inputs.start();
    expect(published.map((r) => [r.channelId, r.deviceId, r.value, r.unit, r.quality])).toEqual([
      ['tank1.lid', 'gpio', 0, '', 'good'],
      ['site.rain', 'gpio', 0, 'mm', 'good'],
    ]);
    await inputs.stop();
  });

  it('report a change at once, once it has held for the debounce time, without waiting for the interval', async () => {
    const { sim, inputs, of } = await rig();
    await inputs.start();
    sim.setInput(CHIP, 17, true);
    await vi.advanceTimersByTimeAsync(40);
    expect(of('tank1.lid')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20);
    expect(of('tank1.lid').map((r) => r.value)).toEqual([0, 1]);
    await inputs.stop();
  });

  it('drop the bounces of a contact: one change, one reading', async () => {
    const { sim, inputs, of } = await rig();
    await inputs.start();
    const closing = sim.transition(CHIP, 17, true, { bounces: 4, bounceMs: 2 });
    await vi.advanceTimersByTimeAsync(200);
    await closing;
    expect(of('tank1.lid').map((r) => r.value)).toEqual([0, 1]);
    await inputs.stop();
  });

  it('report again every interval', async () => {
    const { sim, inputs, of } = await rig();
    await inputs.start();
    sim.setInput(CHIP, 17, true);
    await vi.advanceTimersByTimeAsync(15_000);
    // start, the change, then at 5 s, 10 s and 15 s
    expect(of('tank1.lid').map((r) => r.value)).toEqual([0, 1, 1, 1, 1]);
    expect(of('tank1.lid').map((r) => r.monoTs)).toEqual([0, 50, 5_000, 10_000, 15_000]);
    await inputs.stop();
  });

  it('read an activeLow contact as on while its wire is low', async () => {
    const lidToGround = gpioInput.parse({ id: 'tank2.lid', line: { line: 'GPIO22', activeLow: true }, debounce: '50ms' });
    const { sim, inputs, of } = await rig([lidToGround], (s) => s.setInput(CHIP, 22, true));
    await inputs.start();
    sim.setInput(CHIP, 22, false);
    await vi.advanceTimersByTimeAsync(60);
    expect(of('tank2.lid').map((r) => r.value)).toEqual([0, 1]);
    await inputs.stop();
  });
});

describe('GPIO pulse counters', () => {
  it('count debounced tips × 0.2 mm and report the cumulative total every interval', async () => {
    const { sim, inputs, of } = await rig();
    await inputs.start();
    const tips = sim.pulse(CHIP, 27, 3, { bounces: 2, bounceMs: 1, activeMs: 100, restMs: 400 });
    await vi.advanceTimersByTimeAsync(10_000);
    await tips;
    expect(of('site.rain').map((r) => r.value)).toEqual([0, 0.6]);
    const more = sim.pulse(CHIP, 27, 2, { bounces: 2, bounceMs: 1, activeMs: 100, restMs: 400 });
    await vi.advanceTimersByTimeAsync(10_000);
    await more;
    const last = of('site.rain').at(-1)!;
    expect(last).toMatchObject({ value: 1, unit: 'mm', quality: 'good', deviceId: 'gpio' });
    await inputs.stop();
  });

  it('do not report each tip at once: a counter speaks only at its interval', async () => {
    const { sim, inputs, of } = await rig();
    await inputs.start();
    const tip = sim.pulse(CHIP, 27, 1);
    await vi.advanceTimersByTimeAsync(1_000);
    await tip;
    expect(of('site.rain')).toHaveLength(1);
    await inputs.stop();
  });

  it('carry totals over a restart with snapshot() and restore()', async () => {
    const first = await rig();
    await first.inputs.start();
    const tips = first.sim.pulse(CHIP, 27, 4, { restMs: 200 });
    await vi.advanceTimersByTimeAsync(5_000);
    await tips;
    await first.inputs.stop();
    const saved = first.inputs.snapshot();
    expect(saved).toEqual({ 'site.rain': 0.8 });

    const second = await rig();
    second.inputs.restore({ ...saved, 'tank1.lid': 5, 'unknown.channel': 3 });
    await second.inputs.start();
    expect(second.of('site.rain')[0]!.value).toBe(0.8);
    const tip = second.sim.pulse(CHIP, 27, 1);
    await vi.advanceTimersByTimeAsync(10_000);
    await tip;
    expect(second.of('site.rain').at(-1)!.value).toBe(1);
    expect(second.inputs.snapshot()).toEqual({ 'site.rain': 1 });
    await second.inputs.stop();
  });

  it('refuse a restore after start, and totals that are not counts', async () => {
    const { inputs } = await rig();
    expect(() => inputs.restore({ 'site.rain': -1 })).toThrow(/finite and ≥ 0: site.rain=-1/);
    expect(() => inputs.restore({ 'site.rain': Number.NaN })).toThrow(/site.rain=NaN/);
    await inputs.start();
    expect(() => inputs.restore({ 'site.rain': 2 })).toThrow(/before start/);
    await inputs.stop();
  });
});

describe('GPIO inputs that cannot be read', () => {
  it('report a line that cannot be opened as bad port-down, with the reason, every interval', async () => {
    const missing = gpioInput.parse({ id: 'tank1.door', line: { line: 'GPIO99' }, interval: '5s' });
    const { inputs, of } = await rig([missing]);
    await inputs.start();
    await vi.advanceTimersByTimeAsync(10_000);
    const readings = of('tank1.door');
    expect(readings).toHaveLength(3);
    for (const reading of readings) {
      expect(reading).toMatchObject({ value: null, quality: 'bad', reason: 'port-down', deviceId: 'gpio' });
      expect(reading.detail).toMatch(/no line named "GPIO99"/);
    }
    await inputs.stop();
  });

  it('report a line that fails while running, and reopen it once it works again', async () => {
    const { sim, inputs, of } = await rig([LID]);
    await inputs.start();
    sim.setFault(CHIP, 17, 'chip went away');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(of('tank1.lid').at(-1)).toMatchObject({ quality: 'bad', reason: 'port-down', detail: 'GPIO input tank1.lid: chip went away' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(of('tank1.lid').at(-1)).toMatchObject({ quality: 'bad', reason: 'port-down' });
    sim.setFault(CHIP, 17, null);
    sim.setInput(CHIP, 17, true);
    await vi.advanceTimersByTimeAsync(5_000);
    // reopened at the 15 s tick (still reported bad), then its level at once
    expect(of('tank1.lid').at(-1)).toMatchObject({ quality: 'good', value: 1 });
    expect(sim.isHeld(CHIP, 17)).toBe(true);
    await inputs.stop();
  });

  it('stop reporting and release every line on stop()', async () => {
    const { sim, inputs, published } = await rig();
    await inputs.start();
    await inputs.stop();
    const count = published.length;
    sim.setInput(CHIP, 17, true);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(published).toHaveLength(count);
    expect(sim.isHeld(CHIP, 17)).toBe(false);
    expect(sim.isHeld(CHIP, 27)).toBe(false);
  });
});
