import { readdir, stat } from 'node:fs/promises';
import { createChardevBackend } from './chardev-backend.js';
import { locateGpiodTools } from './gpiod-process.js';
import { createSimulatedBackend, SimulatedGpio } from './simulated.js';
import { createSysfsBackend, type SysfsGpioFactory } from './sysfs-backend.js';
import { DEFAULT_SYSFS_GPIO_ROOT } from './sysfs-tree.js';
import type { GpioBackend } from './types.js';

export type GpioBackendChoice = 'auto' | 'chardev' | 'sysfs' | 'simulated';

export interface GpioBackendOptions {
  /** The sysfs GPIO folder; default /sys/class/gpio. */
  sysfsRoot?: string;
  /** Where the gpiochip character devices are; default /dev. */
  devRoot?: string;
  /** The in-process chips for backend 'simulated' (default: a simulated Raspberry Pi 4). */
  simulated?: SimulatedGpio;
  /** Folder holding the libgpiod tools; default: PATH. */
  gpiodToolsDir?: string;
  /** Stands in for onoff in the sysfs backend (tests). */
  sysfsGpio?: SysfsGpioFactory;
  /** Monotonic clock for change timestamps; default performance.now(). */
  now?: () => number;
}

/** The way to GPIO on this machine, or a clear error. 'auto' never falls back to the simulation. */
export async function createGpioBackend(choice: GpioBackendChoice, options: GpioBackendOptions = {}): Promise<GpioBackend> {
  switch (choice) {
    case 'simulated':
      return createSimulatedBackend(options.simulated ?? SimulatedGpio.raspberryPi4(), options.now);
    case 'chardev':
      return createChardevBackend(chardevOptions(options));
    case 'sysfs':
      return createSysfsBackend(sysfsOptions(options));
    case 'auto':
      return createChosen(await detectGpioBackend(options), options);
  }
}

export interface GpioDetection {
  kind: 'chardev' | 'sysfs';
  /** Why this one, in words for the log. */
  reason: string;
}

/**
 * The character device when /dev has gpiochips and the libgpiod tools are installed, else sysfs when the
 * kernel still offers it. Nothing found is an error that says what is missing, never a silent simulation.
 */
export async function detectGpioBackend(options: GpioBackendOptions = {}): Promise<GpioDetection> {
  const devRoot = options.devRoot ?? '/dev';
  const sysfsRoot = options.sysfsRoot ?? DEFAULT_SYSFS_GPIO_ROOT;
  const chipDevices = await gpiochipDevices(devRoot);
  const tools = await locateGpiodTools(options.gpiodToolsDir);
  const hasSysfs = await isDirectory(sysfsRoot);
  if (chipDevices.length > 0 && tools.missing.length === 0) {
    return { kind: 'chardev', reason: `${chipDevices.map((name) => `${devRoot}/${name}`).join(', ')} and the libgpiod tools` };
  }
  if (hasSysfs) {
    const why =
      chipDevices.length > 0
        ? `the libgpiod tools are missing (${tools.missing.join(', ')}; sudo apt install gpiod to use the character device)`
        : `no gpiochip devices in ${devRoot}`;
    return { kind: 'sysfs', reason: `${sysfsRoot} exists and ${why}` };
  }
  if (chipDevices.length > 0) {
    throw new Error(
      `GPIO chips are in ${devRoot} (${chipDevices.join(', ')}) but the libgpiod tools are not installed ` +
        `(missing ${tools.missing.join(', ')}) and there is no sysfs GPIO at ${sysfsRoot}: sudo apt install gpiod`,
    );
  }
  throw new Error(
    `no GPIO on this machine: no gpiochip devices in ${devRoot} and no sysfs GPIO at ${sysfsRoot}. ` +
      'On a gateway, check the device (and the service\'s DeviceAllow); for tests and the demo set gpio.backend: simulated.',
  );
}

function createChosen(detection: GpioDetection, options: GpioBackendOptions): Promise<GpioBackend> {
  return detection.kind === 'chardev' ? createChardevBackend(chardevOptions(options)) : createSysfsBackend(sysfsOptions(options));
}

function chardevOptions(options: GpioBackendOptions): Parameters<typeof createChardevBackend>[0] {
  return { toolsDir: options.gpiodToolsDir, now: options.now };
}

function sysfsOptions(options: GpioBackendOptions): Parameters<typeof createSysfsBackend>[0] {
  return { root: options.sysfsRoot, createGpio: options.sysfsGpio, now: options.now };
}

async function gpiochipDevices(devRoot: string): Promise<string[]> {
  try {
    return (await readdir(devRoot)).filter((entry) => /^gpiochip\d+$/.test(entry)).sort();
  } catch {
    return [];
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
