import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGpioBackend, GpioLineResolutionError } from '../../drivers/gpio/index.js';
import type { SysfsGpioFactory, SysfsGpioHandle } from '../../drivers/gpio/index.js';
import { readSysfsChips } from '../../drivers/gpio/sysfs-tree.js';

interface FakeChip {
  dir: string;
  label: string;
  base: number;
  ngpio: number;
  chardev?: string;
  lineNames?: string[];
}

/** A Raspberry Pi 4 on Bookworm (kernel 6.6+): the header chip starts at 512, the firmware expander at 570. */
const PI4: FakeChip[] = [
  {
    dir: 'gpiochip512',
    label: 'pinctrl-bcm2711',
    base: 512,
    ngpio: 58,
    chardev: 'gpiochip0',
    lineNames: ['ID_SDA', 'ID_SCL', ...Array.from({ length: 56 }, (_, index) => `GPIO${index + 2}`)],
  },
  { dir: 'gpiochip570', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8, chardev: 'gpiochip1' },
];

/** A Raspberry Pi 5: four SoC chips first, the RP1 with the header at 571. */
const PI5: FakeChip[] = [
  { dir: 'gpiochip512', label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32, chardev: 'gpiochip10' },
  { dir: 'gpiochip544', label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4, chardev: 'gpiochip11' },
  { dir: 'gpiochip548', label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17, chardev: 'gpiochip12' },
  { dir: 'gpiochip565', label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6, chardev: 'gpiochip13' },
  {
    dir: 'gpiochip571',
    label: 'pinctrl-rp1',
    base: 571,
    ngpio: 54,
    chardev: 'gpiochip0',
    lineNames: Array.from({ length: 54 }, (_, index) => `GPIO${index}`),
  },
];

let temp: string;

beforeEach(async () => {
  temp = await mkdtemp(join(tmpdir(), 'vigil-sysfs-'));
});

afterEach(async () => {
  await rm(temp, { recursive: true, force: true });
});

async function fakeSysfs(name: string, chips: readonly FakeChip[]): Promise<string> {
  const root = join(temp, name, 'sys', 'class', 'gpio');
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'export'), '');
  await writeFile(join(root, 'unexport'), '');
  for (const chip of chips) {
    const dir = join(root, chip.dir);
    await mkdir(join(dir, 'device'), { recursive: true });
    await writeFile(join(dir, 'label'), `${chip.label}\n`);
    await writeFile(join(dir, 'base'), `${chip.base}\n`);
    await writeFile(join(dir, 'ngpio'), `${chip.ngpio}\n`);
    if (chip.chardev) await mkdir(join(dir, 'device', chip.chardev));
    if (chip.lineNames) {
      await mkdir(join(dir, 'device', 'of_node'));
      await writeFile(join(dir, 'device', 'of_node', 'gpio-line-names'), `${chip.lineNames.join('\0')}\0`, 'latin1');
    }
  }
  return root;
}

/** Stands in for onoff: records which global numbers were exported and what was written. */
function recordingOnoff(): { factory: SysfsGpioFactory; exported: Array<{ number: number; direction: string; edge: string }>; writes: Array<[number, number]> } {
  const exported: Array<{ number: number; direction: string; edge: string }> = [];
  const writes: Array<[number, number]> = [];
  const factory: SysfsGpioFactory = (number, direction, edge) => {
    exported.push({ number, direction, edge });
    const handle: SysfsGpioHandle = {
      readSync: () => 0,
      write: async (value) => {
        writes.push([number, value]);
      },
      watch: () => {},
      unwatchAll: () => {},
      unexport: () => {},
    };
    return handle;
  };
  return { factory, exported, writes };
}

describe('sysfs chip tree', () => {
  it('reads label, base and line count of every chip, ordered by base', async () => {
    const chips = await readSysfsChips(await fakeSysfs('pi5', PI5));
    expect(chips.map((chip) => [chip.label, chip.sysfsBase, chip.lineCount])).toEqual([
      ['gpio-brcmstb@107d508500', 512, 32],
      ['gpio-brcmstb@107d508520', 544, 4],
      ['gpio-brcmstb@107d517c00', 548, 17],
      ['gpio-brcmstb@107d517c20', 565, 6],
      ['pinctrl-rp1', 571, 54],
    ]);
    expect(chips[4]).toMatchObject({ name: 'gpiochip0', aliases: ['gpiochip571'] });
    expect(chips[0]!.lineNames).toBeNull();
  });

  it('says clearly when there is no sysfs GPIO', async () => {
    await expect(readSysfsChips(join(temp, 'nothing'))).rejects.toThrow(/no sysfs GPIO interface at .*nothing/);
  });
});

describe('sysfs line resolution: label → base → global number', () => {
  it('Pi 4: GPIO17 on pinctrl-bcm2711 is 529, by offset and by name', async () => {
    const backend = await createGpioBackend('sysfs', { sysfsRoot: await fakeSysfs('pi4', PI4) });
    expect(backend.kind).toBe('sysfs');
    await expect(backend.resolve({ chip: 'pinctrl-bcm2711', line: 17, activeLow: false })).resolves.toMatchObject({
      chipName: 'gpiochip0',
      offset: 17,
      lineName: 'GPIO17',
      sysfsNumber: 529,
    });
    await expect(backend.resolve({ line: 'GPIO17', activeLow: false })).resolves.toMatchObject({ sysfsNumber: 529 });
    await expect(backend.resolve({ line: 4, activeLow: false })).resolves.toMatchObject({ sysfsNumber: 516 });
  });

  it('Pi 5: the same GPIO17 is 588, because pinctrl-rp1 starts at 571', async () => {
    const backend = await createGpioBackend('sysfs', { sysfsRoot: await fakeSysfs('pi5', PI5) });
    await expect(backend.resolve({ chip: 'pinctrl-rp1', line: 17, activeLow: false })).resolves.toMatchObject({
      offset: 17,
      sysfsNumber: 588,
    });
    await expect(backend.resolve({ line: 'GPIO17', activeLow: false })).resolves.toMatchObject({ sysfsNumber: 588 });
    // By offset alone the header chip is meant, not the first chip (which would give 529).
    await expect(backend.resolve({ line: 17, activeLow: false })).resolves.toMatchObject({ chipLabel: 'pinctrl-rp1', sysfsNumber: 588 });
    // The chip may also be named by its character-device name or its sysfs folder.
    await expect(backend.resolve({ chip: 'gpiochip0', line: 17, activeLow: false })).resolves.toMatchObject({ sysfsNumber: 588 });
    await expect(backend.resolve({ chip: 'gpiochip571', line: 17, activeLow: false })).resolves.toMatchObject({ sysfsNumber: 588 });
    await expect(backend.resolve({ chip: 'gpio-brcmstb@107d517c00', line: 3, activeLow: false })).resolves.toMatchObject({
      sysfsNumber: 551,
    });
  });

  it('exports the resolved global number through onoff, never a number from the config', async () => {
    const onoff = recordingOnoff();
    const backend = await createGpioBackend('sysfs', { sysfsRoot: await fakeSysfs('pi5', PI5), sysfsGpio: onoff.factory });
    const relay = await backend.openOutput({ chip: 'pinctrl-rp1', line: 17, activeLow: true }, false);
    await relay.write(true);
    const contact = await backend.openInput({ line: 'GPIO27', activeLow: false }, { debounceMs: 0 });
    expect(onoff.exported).toEqual([
      // activeLow: logical off is a high wire, set together with the direction
      { number: 588, direction: 'high', edge: 'none' },
      { number: 598, direction: 'in', edge: 'both' },
    ]);
    expect(onoff.writes).toEqual([[588, 0]]);
    expect(contact.read()).toBe(false);
    await backend.close();
  });

  it('refuses a bias it cannot set, saying how the firmware can, and exports nothing', async () => {
    const onoff = recordingOnoff();
    const backend = await createGpioBackend('sysfs', { sysfsRoot: await fakeSysfs('pi5', PI5), sysfsGpio: onoff.factory });
    await expect(backend.openInput({ line: 'GPIO27', activeLow: true }, { debounceMs: 0, bias: 'pull-up' })).rejects.toThrow(
      /bias pull-up cannot be set through sysfs.*character device backend.*config\.txt.*gpio=27=ip,pu/,
    );
    expect(onoff.exported).toEqual([]);
    await backend.close();
  });

  it('names what is here when a chip label is wrong', async () => {
    const backend = await createGpioBackend('sysfs', { sysfsRoot: await fakeSysfs('pi5', PI5) });
    const error = await backend.resolve({ chip: 'pinctrl-bcm2711', line: 17, activeLow: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpioLineResolutionError);
    expect(String(error)).toMatch(/no GPIO chip labelled or named "pinctrl-bcm2711"/);
    expect(String(error)).toMatch(/chips here: .*gpiochip0 \[pinctrl-rp1\] \(54 lines\)/);
  });

  it('says which names exist when a line name is wrong, and that names are case-sensitive', async () => {
    const backend = await createGpioBackend('sysfs', { sysfsRoot: await fakeSysfs('pi4', PI4) });
    await expect(backend.resolve({ chip: 'pinctrl-bcm2711', line: 'GPIO99', activeLow: false })).rejects.toThrow(
      /no line named "GPIO99" on gpiochip0 \[pinctrl-bcm2711\] \(58 lines\)\. Lines there are named ID_SDA, ID_SCL, GPIO2 … GPIO56, GPIO57/,
    );
    await expect(backend.resolve({ line: 'gpio17', activeLow: false })).rejects.toThrow(/did you mean "GPIO17"/);
  });

  it('says to use an offset where the device tree gives no line names', async () => {
    const backend = await createGpioBackend('sysfs', { sysfsRoot: await fakeSysfs('pi4', PI4) });
    await expect(backend.resolve({ chip: 'raspberrypi-exp-gpio', line: 'PWR_LED_OFF', activeLow: false })).rejects.toThrow(
      /Line names cannot be read through sysfs .* for gpiochip1 .*name the line by chip and offset/,
    );
    await expect(backend.resolve({ chip: 'raspberrypi-exp-gpio', line: 2, activeLow: false })).resolves.toMatchObject({ sysfsNumber: 572 });
  });

  it('rejects an offset past the end of the chip', async () => {
    const backend = await createGpioBackend('sysfs', { sysfsRoot: await fakeSysfs('pi4', PI4) });
    await expect(backend.resolve({ chip: 'pinctrl-bcm2711', line: 58, activeLow: false })).rejects.toThrow(
      /offset 58 is out of range on gpiochip0 \[pinctrl-bcm2711\] \(58 lines\): offsets there are 0–57/,
    );
  });

  it('will not hand a test tree to onoff, which only knows /sys/class/gpio', async () => {
    const backend = await createGpioBackend('sysfs', { sysfsRoot: await fakeSysfs('pi4', PI4) });
    await expect(backend.openOutput({ line: 17, activeLow: false }, false)).rejects.toThrow(/onoff can only use \/sys\/class\/gpio/);
  });
});
