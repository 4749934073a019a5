import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGpioBackend, detectGpioBackend } from '../../drivers/gpio/index.js';

let temp: string;
let emptyToolsDir: string;

beforeEach(async () => {
  temp = await mkdtemp(join(tmpdir(), 'vigil-gpio-detect-'));
  emptyToolsDir = join(temp, 'no-tools');
  await mkdir(emptyToolsDir);
});

afterEach(async () => {
  await rm(temp, { recursive: true, force: true });
});

async function sysfsTree(): Promise<string> {
  const root = join(temp, 'sys', 'class', 'gpio');
  await mkdir(join(root, 'gpiochip512'), { recursive: true });
  await writeFile(join(root, 'gpiochip512', 'label'), 'pinctrl-bcm2711\n');
  await writeFile(join(root, 'gpiochip512', 'base'), '512\n');
  await writeFile(join(root, 'gpiochip512', 'ngpio'), '58\n');
  return root;
}

async function devWithChip(): Promise<string> {
  const dev = join(temp, 'dev');
  await mkdir(dev, { recursive: true });
  await writeFile(join(dev, 'gpiochip0'), '');
  return dev;
}

describe('GPIO backend auto-detection', () => {
  it('is an error when there is no GPIO at all: never a silent simulation', async () => {
    const options = { devRoot: join(temp, 'dev-empty'), sysfsRoot: join(temp, 'no-sysfs'), gpiodToolsDir: emptyToolsDir };
    await expect(createGpioBackend('auto', options)).rejects.toThrow(/no GPIO on this machine: no gpiochip devices in .*dev-empty and no sysfs GPIO/);
    await expect(createGpioBackend('auto', options)).rejects.toThrow(/gpio\.backend: simulated/);
  });

  it('takes sysfs when the kernel offers it and the character device cannot be used', async () => {
    const sysfsRoot = await sysfsTree();
    const detection = await detectGpioBackend({ devRoot: join(temp, 'dev-empty'), sysfsRoot, gpiodToolsDir: emptyToolsDir });
    expect(detection).toMatchObject({ kind: 'sysfs' });
    const backend = await createGpioBackend('auto', { devRoot: join(temp, 'dev-empty'), sysfsRoot, gpiodToolsDir: emptyToolsDir });
    expect(backend.kind).toBe('sysfs');
  });

  it('says the libgpiod tools are missing when chips exist but the tools do not', async () => {
    const devRoot = await devWithChip();
    await expect(
      createGpioBackend('auto', { devRoot, sysfsRoot: join(temp, 'no-sysfs'), gpiodToolsDir: emptyToolsDir }),
    ).rejects.toThrow(/GPIO chips are in .*dev \(gpiochip0\) but the libgpiod tools are not installed .*sudo apt install gpiod/);
    const detection = await detectGpioBackend({ devRoot, sysfsRoot: await sysfsTree(), gpiodToolsDir: emptyToolsDir });
    expect(detection.kind).toBe('sysfs');
    expect(detection.reason).toMatch(/libgpiod tools are missing/);
  });

  it('gives the simulation only when asked for by name', async () => {
    const backend = await createGpioBackend('simulated');
    expect(backend.kind).toBe('simulated');
    expect(backend.description).toMatch(/pinctrl-bcm2711/);
  });

  it('reports a missing tool set clearly when chardev is asked for by name', async () => {
    await expect(createGpioBackend('chardev', { gpiodToolsDir: emptyToolsDir })).rejects.toThrow(
      /libgpiod tools are not installed \(missing gpiodetect, gpioinfo, gpioget, gpioset, gpiomon in .*no-tools\)/,
    );
  });
});
