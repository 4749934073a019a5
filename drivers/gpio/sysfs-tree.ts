import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GpioChipInfo } from './line-catalog.js';

export const DEFAULT_SYSFS_GPIO_ROOT = '/sys/class/gpio';

const CHIP_DIR = /^gpiochip\d+$/;

/**
 * The chips the kernel's sysfs GPIO interface shows, with the base of each. Since kernel 6.6 (Raspberry Pi OS
 * Bookworm) the bases are no longer 0: 512 for a Pi 4's pinctrl-bcm2711, 571 for a Pi 5's pinctrl-rp1. So a
 * line's global number is always worked out here from the chip's label and base, never written in a config.
 */
export async function readSysfsChips(root: string = DEFAULT_SYSFS_GPIO_ROOT): Promise<GpioChipInfo[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (error) {
    throw new Error(`no sysfs GPIO interface at ${root} (${errorText(error)})`);
  }
  const chips: GpioChipInfo[] = [];
  for (const dirName of entries.filter((entry) => CHIP_DIR.test(entry))) {
    const dir = join(root, dirName);
    const label = (await readText(join(dir, 'label'))).trim();
    const base = await readInteger(join(dir, 'base'));
    const lineCount = await readInteger(join(dir, 'ngpio'));
    const chardevName = await characterDeviceName(dir);
    chips.push({
      name: chardevName ?? dirName,
      aliases: chardevName && chardevName !== dirName ? [dirName] : [],
      label,
      lineCount,
      lineNames: await deviceTreeLineNames(dir, lineCount),
      sysfsBase: base,
    });
  }
  return chips.sort((a, b) => (a.sysfsBase ?? 0) - (b.sysfsBase ?? 0));
}

/** The chip's character-device name ("gpiochip0"), found beside it under its parent device. */
async function characterDeviceName(chipDir: string): Promise<string | undefined> {
  try {
    const siblings = await readdir(join(chipDir, 'device'));
    return siblings.find((entry) => CHIP_DIR.test(entry));
  } catch {
    return undefined;
  }
}

/**
 * sysfs has no line names; the device tree that the chip comes from does (gpio-line-names: NUL-separated).
 * Without it, lines can only be named by offset on this interface.
 */
async function deviceTreeLineNames(chipDir: string, lineCount: number): Promise<Array<string | null> | null> {
  let raw: string;
  try {
    raw = await readFile(join(chipDir, 'device', 'of_node', 'gpio-line-names'), 'latin1');
  } catch {
    return null;
  }
  const names = raw.split('\0');
  return Array.from({ length: lineCount }, (_, offset) => {
    const name = names[offset];
    return name === undefined || name === '' ? null : name;
  });
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path} (${errorText(error)})`);
  }
}

async function readInteger(path: string): Promise<number> {
  const text = (await readText(path)).trim();
  if (!/^\d+$/.test(text)) throw new Error(`${path} holds "${text}", not a whole number`);
  return Number(text);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
