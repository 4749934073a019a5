import { describe, expect, it } from 'vitest';
import type { OutputDriver } from '../../agent/safety/outputs/types.js';
import { createGpioBackend, gpioOutputDriver, SimulatedGpio } from '../../drivers/gpio/index.js';

const CHIP = 'pinctrl-bcm2711';

async function fanRelay(activeLow = false): Promise<{ sim: SimulatedGpio; driver: Awaited<ReturnType<typeof gpioOutputDriver>> }> {
  const sim = SimulatedGpio.raspberryPi4();
  const backend = await createGpioBackend('simulated', { simulated: sim });
  const driver = await gpioOutputDriver(backend, { line: 'GPIO18', activeLow }, 'tank 1 fan relay (GPIO18)');
  return { sim, driver };
}

describe('GPIO output driver', () => {
  it('fits the safety outputs\' OutputDriver', async () => {
    const { driver } = await fanRelay();
    const asOutput: OutputDriver = driver;
    expect(asOutput.description).toBe('tank 1 fan relay (GPIO18)');
  });

  it('does not touch the line until the first write, which sets its initial level', async () => {
    const { sim, driver } = await fanRelay();
    expect(sim.isHeld(CHIP, 18)).toBe(false);
    await expect(driver.write(true)).resolves.toEqual({ ok: true });
    expect(sim.writes(CHIP, 18)).toEqual([true]);
    await expect(driver.write(false)).resolves.toEqual({ ok: true });
    expect(sim.output(CHIP, 18)).toBe(false);
  });

  it('drives an activeLow relay low for on', async () => {
    const { sim, driver } = await fanRelay(true);
    await driver.write(true);
    expect(sim.output(CHIP, 18)).toBe(false);
    await driver.write(false);
    expect(sim.output(CHIP, 18)).toBe(true);
  });

  it('answers a failed write with ok: false and the reason, and recovers on a later write', async () => {
    const { sim, driver } = await fanRelay();
    await driver.write(false);
    sim.setFault(CHIP, 18, 'line driver fault');
    const failed = await driver.write(true);
    expect(failed).toEqual({ ok: false, error: 'tank 1 fan relay (GPIO18): line driver fault' });
    sim.setFault(CHIP, 18, null);
    await expect(driver.write(true)).resolves.toEqual({ ok: true });
    expect(sim.output(CHIP, 18)).toBe(true);
  });

  it('answers ok: false for a line that does not exist, never throws', async () => {
    const backend = await createGpioBackend('simulated', { simulated: SimulatedGpio.raspberryPi4() });
    const driver = await gpioOutputDriver(backend, { line: 'GPIO99', activeLow: false }, 'siren');
    const result = await driver.write(true);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error).toMatch(/^siren: no line named "GPIO99"/);
  });

  it('keeps writes in order when they overlap', async () => {
    const { sim, driver } = await fanRelay();
    const results = await Promise.all([driver.write(true), driver.write(false), driver.write(true)]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(sim.writes(CHIP, 18)).toEqual([true, false, true]);
  });

  it('releases the line (released = not driven), and refuses writes after', async () => {
    const { sim, driver } = await fanRelay();
    await driver.write(true);
    await driver.release();
    expect(sim.output(CHIP, 18)).toBeUndefined();
    expect(await driver.write(true)).toMatchObject({ ok: false });
  });
});
