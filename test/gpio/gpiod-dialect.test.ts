import { describe, expect, it } from 'vitest';
import {
  chipCatalog,
  gpiogetArgs,
  gpiomonArgs,
  gpiosetArgs,
  isBanner,
  parseGpiodetect,
  parseGpiodVersion,
  parseGpiogetLevel,
  parseGpioinfo,
  parseGpiomonEvent,
} from '../../drivers/gpio/gpiod-dialect.js';
import { resolveLine } from '../../drivers/gpio/line-catalog.js';

// Samples in the tools' documented formats. v1 (libgpiod 1.6, Raspberry Pi OS Bookworm on a Pi 4): gpioinfo
// right-aligns each field in a fixed width and stops padding once a field overflows. v2 (libgpiod 2.x, Trixie on
// a Pi 5): the name is left-aligned in 16 columns, then a tab, the direction and key=value attributes.
const V1_VERSION = `gpioset (libgpiod) v1.6.3
Copyright (C) 2017-2018 Bartosz Golaszewski
License: LGPLv2.1
This is free software: you are free to change and redistribute it.
There is NO WARRANTY, to the extent permitted by law.
`;

const V2_VERSION = `gpioset (libgpiod) v2.2.1
Copyright (C) 2017-2023 Bartosz Golaszewski
License: GPL-2.0-or-later
This is free software: you are free to change and redistribute it.
There is NO WARRANTY, to the extent permitted by law.
`;

const V1_GPIODETECT_PI4 = 'gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\n';

const V1_GPIOINFO_PI4 = [
  'gpiochip0 - 58 lines:',
  '\tline   0:     "ID_SDA"       unused   input  active-high ',
  '\tline   1:     "ID_SCL"       unused   input  active-high ',
  '\tline  17:     "GPIO17"    "gpioset"  output  active-high [used]',
  '\tline  27:     "GPIO27"    "gpiomon"   input  active-high [used]',
  '\tline  29: "LAN_RUN_BOOT" unused input active-high ',
  '\tline  42: "STATUS_LED_G_CLK" "ACT" output active-high [used]',
  '\tline  57:      unnamed       unused   input  active-high ',
  'gpiochip1 - 8 lines:',
  '\tline   0:      "BT_ON"   "shutdown"  output  active-high [used]',
  '\tline   2: "PWR_LED_OFF" "PWR" output active-low [used]',
  '\tline   5:   "CAM_GPIO"       kernel  output  active-high [used]',
  '',
].join('\n');

const V2_GPIODETECT_PI5 = [
  'gpiochip0 [pinctrl-rp1] (54 lines)',
  'gpiochip10 [gpio-brcmstb@107d508500] (32 lines)',
  'gpiochip11 [gpio-brcmstb@107d508520] (4 lines)',
  'gpiochip12 [gpio-brcmstb@107d517c00] (17 lines)',
  'gpiochip13 [gpio-brcmstb@107d517c20] (6 lines)',
  '',
].join('\n');

const V2_GPIOINFO_PI5 = [
  'gpiochip0 - 54 lines:',
  '\tline   0:\t"ID_SDA"        \tinput',
  '\tline  17:\t"GPIO17"        \toutput consumer="vigil"',
  '\tline  27:\t"GPIO27"        \tinput edges=both consumer="vigil"',
  '\tline  34:\t"PCIE_PWR_EN_PLACEHOLDER"\toutput active-low consumer="kernel"',
  '\tline  53:\tunnamed         \tinput bias=pull-down',
  'gpiochip10 - 32 lines:',
  '\tline   0:\tunnamed         \tinput',
  '',
].join('\n');

describe('libgpiod version', () => {
  it('tells v1 from v2 by the first line of --version', () => {
    expect(parseGpiodVersion(V1_VERSION)).toMatchObject({ major: 1, minor: 6, patch: 3, text: 'v1.6.3' });
    expect(parseGpiodVersion(V2_VERSION)).toMatchObject({ major: 2, minor: 2, patch: 1 });
  });

  it('refuses what is not a libgpiod tool, and versions it does not speak', () => {
    expect(() => parseGpiodVersion('gpioset: command not found')).toThrow(/not a libgpiod tool version/);
    expect(() => parseGpiodVersion('gpioset (libgpiod) v3.0.0')).toThrow(/v3 are not supported/);
  });
});

describe('gpiodetect', () => {
  it('reads names, labels and line counts', () => {
    expect(parseGpiodetect(V1_GPIODETECT_PI4)).toEqual([
      { name: 'gpiochip0', label: 'pinctrl-bcm2711', lineCount: 58 },
      { name: 'gpiochip1', label: 'raspberrypi-exp-gpio', lineCount: 8 },
    ]);
    const pi5 = parseGpiodetect(V2_GPIODETECT_PI5);
    expect(pi5).toHaveLength(5);
    expect(pi5[4]).toEqual({ name: 'gpiochip13', label: 'gpio-brcmstb@107d517c20', lineCount: 6 });
  });

  it('is empty when there are no chips', () => {
    expect(parseGpiodetect('')).toEqual([]);
  });
});

describe('gpioinfo v1', () => {
  const chips = parseGpioinfo(V1_GPIOINFO_PI4);

  it('splits the listing by chip', () => {
    expect(chips.map((chip) => [chip.name, chip.lineCount, chip.lines.length])).toEqual([
      ['gpiochip0', 58, 7],
      ['gpiochip1', 8, 3],
    ]);
  });

  it('reads names, consumers, directions and active state, padded or overflowing', () => {
    const lines = chips[0]!.lines;
    expect(lines[0]).toEqual({ offset: 0, name: 'ID_SDA', consumer: null, direction: 'input', activeLow: false });
    expect(lines[2]).toEqual({ offset: 17, name: 'GPIO17', consumer: 'gpioset', direction: 'output', activeLow: false });
    expect(lines[3]).toMatchObject({ offset: 27, consumer: 'gpiomon', direction: 'input' });
    expect(lines[4]).toMatchObject({ offset: 29, name: 'LAN_RUN_BOOT', consumer: null });
    expect(lines[5]).toMatchObject({ offset: 42, name: 'STATUS_LED_G_CLK', consumer: 'ACT', direction: 'output' });
    expect(lines[6]).toMatchObject({ offset: 57, name: null, consumer: null });
    expect(chips[1]!.lines[1]).toEqual({ offset: 2, name: 'PWR_LED_OFF', consumer: 'PWR', direction: 'output', activeLow: true });
    expect(chips[1]!.lines[2]).toMatchObject({ offset: 5, consumer: 'kernel' });
  });
});

describe('gpioinfo v2', () => {
  const chips = parseGpioinfo(V2_GPIOINFO_PI5);

  it('reads names, directions and attributes', () => {
    const lines = chips[0]!.lines;
    expect(lines[0]).toEqual({ offset: 0, name: 'ID_SDA', consumer: null, direction: 'input', activeLow: false });
    expect(lines[1]).toEqual({ offset: 17, name: 'GPIO17', consumer: 'vigil', direction: 'output', activeLow: false });
    expect(lines[2]).toMatchObject({ offset: 27, consumer: 'vigil', direction: 'input' });
    expect(lines[3]).toEqual({
      offset: 34,
      name: 'PCIE_PWR_EN_PLACEHOLDER',
      consumer: 'kernel',
      direction: 'output',
      activeLow: true,
    });
    expect(lines[4]).toMatchObject({ offset: 53, name: null, consumer: null });
    expect(chips[1]).toMatchObject({ name: 'gpiochip10', lineCount: 32 });
  });
});

describe('chip catalog from both tools', () => {
  it('lets a line be found by label and name, with the Pi 5 header on pinctrl-rp1', () => {
    const catalog = chipCatalog(parseGpiodetect(V2_GPIODETECT_PI5), parseGpioinfo(V2_GPIOINFO_PI5));
    expect(catalog[0]).toMatchObject({ name: 'gpiochip0', label: 'pinctrl-rp1', lineCount: 54 });
    expect(catalog[0]!.lineNames).toHaveLength(54);
    expect(resolveLine(catalog, { line: 'GPIO17', activeLow: false }, 'test')).toMatchObject({
      chipName: 'gpiochip0',
      offset: 17,
    });
    expect(resolveLine(catalog, { chip: 'pinctrl-rp1', line: 27, activeLow: false }, 'test')).toMatchObject({
      chipName: 'gpiochip0',
      offset: 27,
      lineName: 'GPIO27',
    });
  });
});

describe('gpioget', () => {
  it('reads v1 digits and v2 active/inactive, quoted or not', () => {
    expect(parseGpiogetLevel('1\n')).toBe(true);
    expect(parseGpiogetLevel('0\n')).toBe(false);
    expect(parseGpiogetLevel('"17"=active\n')).toBe(true);
    expect(parseGpiogetLevel('"GPIO17"=inactive\n')).toBe(false);
    expect(parseGpiogetLevel('17=active')).toBe(true);
    expect(() => parseGpiogetLevel('gpioget: unable to request lines')).toThrow(/unexpected gpioget output/);
  });
});

describe('gpiomon events', () => {
  it('reads v1 types (1 rising, 0 falling)', () => {
    expect(parseGpiomonEvent('17 1', { major: 1 })).toEqual({ offset: 17, rising: true });
    expect(parseGpiomonEvent('17 0', { major: 1 })).toEqual({ offset: 17, rising: false });
    expect(parseGpiomonEvent('17 2', { major: 1 })).toBeNull();
  });

  it('reads v2 types (1 rising, 2 falling) and skips the banner', () => {
    expect(parseGpiomonEvent('4 1', { major: 2 })).toEqual({ offset: 4, rising: true });
    expect(parseGpiomonEvent('4 2', { major: 2 })).toEqual({ offset: 4, rising: false });
    expect(parseGpiomonEvent('4 0', { major: 2 })).toBeNull();
    expect(parseGpiomonEvent("Monitoring line '4'...", { major: 2 })).toBeNull();
    expect(isBanner("Monitoring line '4'...")).toBe(true);
    expect(isBanner("Setting line '17'...")).toBe(true);
    expect(isBanner('17 1')).toBe(false);
  });
});

describe('tool arguments', () => {
  it('v1 holds an output with --mode=signal, chip and offset positional', () => {
    expect(gpiosetArgs({ major: 1 }, 'gpiochip0', 17, true)).toEqual(['--mode=signal', 'gpiochip0', '17=1']);
    expect(gpiogetArgs({ major: 1 }, 'gpiochip0', 27)).toEqual(['gpiochip0', '27']);
    expect(gpiomonArgs({ major: 1 }, 'gpiochip0', 27)).toEqual(['--line-buffered', '--format=%o %e', 'gpiochip0', '27']);
  });

  it('bias: v1 spells "disable" and takes as-is; v2 spells "disabled" and leaves the bias alone without the option', () => {
    expect(gpiomonArgs({ major: 1 }, 'gpiochip0', 27, 'pull-up')).toEqual(['--line-buffered', '--bias=pull-up', '--format=%o %e', 'gpiochip0', '27']);
    expect(gpiogetArgs({ major: 1 }, 'gpiochip0', 27, 'disabled')).toEqual(['--bias=disable', 'gpiochip0', '27']);
    expect(gpiogetArgs({ major: 2 }, 'gpiochip0', 27, 'disabled')).toEqual(['--bias=disabled', '--chip', 'gpiochip0', '27']);
    expect(gpiogetArgs({ major: 2 }, 'gpiochip0', 27, 'as-is')).toEqual(['--chip', 'gpiochip0', '27']);
  });

  it('v2 holds by default, names the chip with --chip and announces itself with --banner', () => {
    const set = gpiosetArgs({ major: 2 }, 'gpiochip0', 17, false);
    expect(set).toContain('--banner');
    expect(set).not.toContain('--mode=signal');
    expect(set.slice(-3)).toEqual(['--chip', 'gpiochip0', '17=0']);
    expect(gpiogetArgs({ major: 2 }, 'gpiochip0', 27)).toEqual(['--chip', 'gpiochip0', '27']);
    expect(gpiomonArgs({ major: 2 }, 'gpiochip0', 27)).toEqual(
      expect.arrayContaining(['--banner', '--edges=both', '--format=%o %e', '--chip', 'gpiochip0', '27']),
    );
  });
});
