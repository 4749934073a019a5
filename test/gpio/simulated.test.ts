import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGpioBackend, GpioLineResolutionError, SimulatedGpio } from '../../drivers/gpio/index.js';

const CHIP = 'pinctrl-bcm2711';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('simulated outputs', () => {
  it('drive the wire from the first instant, with activeLow inverted on the wire', async () => {
    const sim = SimulatedGpio.raspberryPi4();
    const backend = await createGpioBackend('simulated', { simulated: sim });
    const relay = await backend.openOutput({ line: 'GPIO18', activeLow: true }, false);
    expect(sim.output(CHIP, 18)).toBe(true);
    await relay.write(true);
    expect(sim.output(CHIP, 18)).toBe(false);
    expect(relay.read()).toBe(true);
    expect(sim.writes(CHIP, 18)).toEqual([true, false]);

    const plain = await backend.openOutput({ chip: CHIP, line: 23, activeLow: false }, true);
    expect(sim.output(CHIP, 23)).toBe(true);
    await plain.write(false);
    expect(sim.output(CHIP, 23)).toBe(false);
  });

  it('refuse a line that is already held, as the kernel does', async () => {
    const backend = await createGpioBackend('simulated', { simulated: SimulatedGpio.raspberryPi4() });
    await backend.openOutput({ line: 'GPIO18', activeLow: false }, false);
    await expect(backend.openInput({ chip: 'gpiochip0', line: 18, activeLow: false }, { debounceMs: 0 })).rejects.toThrow(/line busy/);
  });

  it('stop driving the wire once released, and close() releases every line', async () => {
    const sim = SimulatedGpio.raspberryPi4();
    const backend = await createGpioBackend('simulated', { simulated: sim });
    const relay = await backend.openOutput({ line: 'GPIO18', activeLow: false }, true);
    await backend.openInput({ line: 'GPIO17', activeLow: false }, { debounceMs: 10 });
    await relay.release();
    expect(sim.output(CHIP, 18)).toBeUndefined();
    expect(sim.isHeld(CHIP, 18)).toBe(false);
    await expect(relay.write(true)).rejects.toThrow(/released/);
    expect(sim.isHeld(CHIP, 17)).toBe(true);
    await backend.close();
    expect(sim.isHeld(CHIP, 17)).toBe(false);
  });
});

describe('simulated inputs', () => {
  it('count only debounced rising edges, however much the contact bounces', async () => {
    const sim = SimulatedGpio.raspberryPi4();
    const backend = await createGpioBackend('simulated', { simulated: sim });
    const input = await backend.openInput({ line: 'GPIO27', activeLow: false }, { debounceMs: 20 });
    const changes: boolean[] = [];
    input.onChange((on) => changes.push(on));

    const tips = sim.pulse(CHIP, 27, 4, { bounces: 3, bounceMs: 1, activeMs: 80, restMs: 80 });
    await vi.advanceTimersByTimeAsync(2_000);
    await tips;

    expect(input.edges()).toBe(4);
    expect(changes).toEqual([true, false, true, false, true, false, true, false]);
  });

  it('ignore a glitch shorter than the debounce time', async () => {
    const sim = SimulatedGpio.raspberryPi4();
    const backend = await createGpioBackend('simulated', { simulated: sim });
    const input = await backend.openInput({ line: 'GPIO27', activeLow: false }, { debounceMs: 50 });
    sim.setInput(CHIP, 27, true);
    await vi.advanceTimersByTimeAsync(30);
    sim.setInput(CHIP, 27, false);
    await vi.advanceTimersByTimeAsync(500);
    expect(input.edges()).toBe(0);
    expect(input.read()).toBe(false);
  });

  it('read activeLow contacts as on when the wire is low', async () => {
    const sim = SimulatedGpio.raspberryPi4();
    sim.setInput(CHIP, 22, true);
    const backend = await createGpioBackend('simulated', { simulated: sim });
    const contact = await backend.openInput({ line: 'GPIO22', activeLow: true }, { debounceMs: 10 });
    expect(contact.read()).toBe(false);
    sim.setInput(CHIP, 22, false);
    await vi.advanceTimersByTimeAsync(20);
    expect(contact.read()).toBe(true);
    expect(contact.edges()).toBe(1);
  });
});

describe('simulated chips', () => {
  it('put the Pi 5 header on pinctrl-rp1, so an offset alone means the header', async () => {
    const backend = await createGpioBackend('simulated', { simulated: SimulatedGpio.raspberryPi5() });
    await expect(backend.resolve({ line: 17, activeLow: false })).resolves.toMatchObject({
      chipName: 'gpiochip0',
      chipLabel: 'pinctrl-rp1',
      lineName: 'GPIO17',
    });
  });

  it('resolve with the same clear errors as real chips', async () => {
    const backend = await createGpioBackend('simulated', { simulated: SimulatedGpio.raspberryPi4() });
    const error = await backend.resolve({ chip: 'pinctrl-rp1', line: 'GPIO17', activeLow: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpioLineResolutionError);
    expect(String(error)).toMatch(/no GPIO chip labelled or named "pinctrl-rp1" through the simulated GPIO; chips here: gpiochip0 \[pinctrl-bcm2711\] \(58 lines\)/);
    await expect(backend.resolve({ line: 'GPIO99', activeLow: false })).rejects.toThrow(/no line named "GPIO99" on any chip here/);
    await expect(backend.resolve({ line: '17', activeLow: false })).rejects.toThrow(/write it as a number: line: 17/);
  });
});
