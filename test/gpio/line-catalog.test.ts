import { describe, expect, it } from 'vitest';
import { resolveLine, type GpioChipInfo } from '../../drivers/gpio/line-catalog.js';

const named = (count: number): string[] => Array.from({ length: count }, (_, offset) => `GPIO${offset}`);

/** A board with two GPIO expanders and no Raspberry Pi header chip. */
const EXPANDERS: GpioChipInfo[] = [
  { name: 'gpiochip2', label: 'pca9555', lineCount: 16, lineNames: Array.from({ length: 16 }, () => null) },
  { name: 'gpiochip3', label: 'pca9555', lineCount: 16, lineNames: ['RELAY1', ...Array.from({ length: 15 }, () => null)] },
  { name: 'gpiochip4', label: 'mcp23017', lineCount: 16, lineNames: ['RELAY1', ...Array.from({ length: 15 }, () => null)] },
];

describe('GPIO line resolution', () => {
  it('will not guess a chip for a bare offset when no header chip is there', () => {
    expect(() => resolveLine(EXPANDERS, { line: 3, activeLow: false }, 'test')).toThrow(
      /line 3 is given by offset, but there are 3 GPIO chips here and none is a Raspberry Pi header chip .*add "chip:"/,
    );
  });

  it('takes the only chip there is for a bare offset', () => {
    const only: GpioChipInfo[] = [{ name: 'gpiochip0', label: 'gpio-sim', lineCount: 8, lineNames: named(8) }];
    expect(resolveLine(only, { line: 3, activeLow: false }, 'test')).toMatchObject({ chipName: 'gpiochip0', offset: 3 });
  });

  it('asks for the chip name when two chips share a label', () => {
    expect(() => resolveLine(EXPANDERS, { chip: 'pca9555', line: 0, activeLow: false }, 'test')).toThrow(
      /2 GPIO chips are labelled "pca9555" \(gpiochip2, gpiochip3\): name the chip by its name instead/,
    );
    expect(resolveLine(EXPANDERS, { chip: 'gpiochip3', line: 'RELAY1', activeLow: false }, 'test')).toMatchObject({ offset: 0 });
  });

  it('asks for the chip when a line name is on several chips', () => {
    expect(() => resolveLine(EXPANDERS, { line: 'RELAY1', activeLow: false }, 'test')).toThrow(
      /line name "RELAY1" is on 2 chips .*add "chip:" to say which/,
    );
  });

  it('suggests the label in its right case', () => {
    expect(() => resolveLine(EXPANDERS, { chip: 'MCP23017', line: 0, activeLow: false }, 'test')).toThrow(/Did you mean "mcp23017"\?/);
  });

  it('describes the line it found for logs', () => {
    const pi4: GpioChipInfo[] = [{ name: 'gpiochip0', label: 'pinctrl-bcm2711', lineCount: 58, lineNames: named(58), sysfsBase: 512 }];
    expect(resolveLine(pi4, { line: 'GPIO17', activeLow: false }, 'test').text).toBe('GPIO17 (pinctrl-bcm2711 offset 17, sysfs 529)');
    expect(resolveLine(EXPANDERS, { chip: 'mcp23017', line: 5, activeLow: false }, 'test').text).toBe('mcp23017 offset 5');
  });

  it('says there are no chips at all', () => {
    expect(() => resolveLine([], { line: 17, activeLow: false }, 'the GPIO character device')).toThrow(
      'no GPIO chips found through the GPIO character device',
    );
  });
});
