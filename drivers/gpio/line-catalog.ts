import type { GpioLine, ResolvedGpioLine } from './types.js';

/** What a backend knows about one GPIO chip, from gpiodetect/gpioinfo, the sysfs tree or the simulation. */
export interface GpioChipInfo {
  /** Kernel name, e.g. "gpiochip0". */
  name: string;
  /** Other names the site file may use for the same chip (sysfs: the "gpiochip512" directory). */
  aliases?: readonly string[];
  label: string;
  lineCount: number;
  /** Line names by offset (null = unnamed), or null when this interface cannot tell line names at all. */
  lineNames: readonly (string | null)[] | null;
  /** sysfs only: the global number of offset 0. */
  sysfsBase?: number;
}

/** The line in the site file does not name a line on this machine; the message says what is here. */
export class GpioLineResolutionError extends Error {
  override readonly name = 'GpioLineResolutionError';
}

/**
 * Chips whose offsets are the Raspberry Pi header's BCM GPIO numbers (Pi 5, Pi 4, Pi 1–3/Zero). A line given by
 * offset alone means one of these: their labels are fixed by the kernel drivers, unlike chip numbers.
 */
export const HEADER_CHIP_LABELS: readonly string[] = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

/** "gpiochip0 [pinctrl-bcm2711] (58 lines)", as gpiodetect prints it, so a technician recognises it. */
export function chipSummary(chip: GpioChipInfo): string {
  return `${chip.name} [${chip.label}] (${chip.lineCount} lines)`;
}

export function chipsSummary(chips: readonly GpioChipInfo[]): string {
  return chips.length === 0 ? 'none' : chips.map(chipSummary).join(', ');
}

/** Pins a site-file line to a chip and offset, or throws GpioLineResolutionError with a hint. */
export function resolveLine(chips: readonly GpioChipInfo[], line: GpioLine, where: string): ResolvedGpioLine {
  if (chips.length === 0) {
    throw new GpioLineResolutionError(`no GPIO chips found through ${where}`);
  }
  const chip = line.chip === undefined ? undefined : findChip(chips, line.chip, where);
  if (typeof line.line === 'number') {
    const target = chip ?? defaultChipForOffset(chips, line.line);
    return byOffset(target, line.line);
  }
  return byName(chip ? [chip] : chips, line.line, chips, where);
}

function findChip(chips: readonly GpioChipInfo[], wanted: string, where: string): GpioChipInfo {
  const byLabel = chips.filter((chip) => chip.label === wanted);
  if (byLabel.length === 1) return byLabel[0]!;
  if (byLabel.length > 1) {
    throw new GpioLineResolutionError(
      `${byLabel.length} GPIO chips are labelled "${wanted}" (${byLabel.map((chip) => chip.name).join(', ')}): ` +
        'name the chip by its name instead',
    );
  }
  const byName = chips.find((chip) => chip.name === wanted || (chip.aliases ?? []).includes(wanted));
  if (byName) return byName;
  const nearly = chips.find((chip) => chip.label.toLowerCase() === wanted.toLowerCase());
  const hint = nearly ? ` Did you mean "${nearly.label}"?` : '';
  throw new GpioLineResolutionError(
    `no GPIO chip labelled or named "${wanted}" through ${where}; chips here: ${chipsSummary(chips)}.${hint}`,
  );
}

function defaultChipForOffset(chips: readonly GpioChipInfo[], offset: number): GpioChipInfo {
  if (chips.length === 1) return chips[0]!;
  for (const label of HEADER_CHIP_LABELS) {
    const header = chips.find((chip) => chip.label === label);
    if (header) return header;
  }
  throw new GpioLineResolutionError(
    `line ${offset} is given by offset, but there are ${chips.length} GPIO chips here and none is a Raspberry Pi ` +
      `header chip (${HEADER_CHIP_LABELS.join(', ')}): add "chip:" with one of ${chipsSummary(chips)}`,
  );
}

function byOffset(chip: GpioChipInfo, offset: number): ResolvedGpioLine {
  if (!Number.isInteger(offset) || offset < 0 || offset >= chip.lineCount) {
    throw new GpioLineResolutionError(
      `offset ${offset} is out of range on ${chipSummary(chip)}: offsets there are 0–${chip.lineCount - 1}`,
    );
  }
  return pinned(chip, offset);
}

function byName(
  searched: readonly GpioChipInfo[],
  name: string,
  allChips: readonly GpioChipInfo[],
  where: string,
): ResolvedGpioLine {
  const unnamed = searched.filter((chip) => chip.lineNames === null);
  const matches: Array<{ chip: GpioChipInfo; offset: number }> = [];
  for (const chip of searched) {
    chip.lineNames?.forEach((lineName, offset) => {
      if (lineName === name) matches.push({ chip, offset });
    });
  }
  if (matches.length === 1) return pinned(matches[0]!.chip, matches[0]!.offset);
  if (matches.length > 1) {
    throw new GpioLineResolutionError(
      `line name "${name}" is on ${matches.length} chips (${matches.map((m) => `${chipSummary(m.chip)} offset ${m.offset}`).join('; ')}): ` +
        'add "chip:" to say which',
    );
  }
  const scope = searched.length === 1 ? chipSummary(searched[0]!) : `any chip here (${chipsSummary(allChips)})`;
  const hints: string[] = [];
  const caseless = searched.flatMap((chip) => (chip.lineNames ?? []).filter((n) => n !== null && n.toLowerCase() === name.toLowerCase()));
  if (caseless.length > 0) hints.push(`Line names are case-sensitive: did you mean "${caseless[0]}"?`);
  if (/^\d+$/.test(name)) hints.push(`To mean offset ${name}, write it as a number: line: ${name}.`);
  if (unnamed.length > 0) {
    hints.push(
      `Line names cannot be read through ${where} for ${unnamed.map((chip) => chip.name).join(', ')} ` +
        '(no gpio-line-names in the device tree): name the line by chip and offset instead, e.g. line: 17.',
    );
  } else if (searched.length === 1) {
    const named = (searched[0]!.lineNames ?? []).filter((n): n is string => n !== null);
    if (named.length > 0) hints.push(`Lines there are named ${sampleNames(named)}.`);
  }
  throw new GpioLineResolutionError(`no line named "${name}" on ${scope}${hints.length ? `. ${hints.join(' ')}` : ''}`);
}

function sampleNames(names: readonly string[]): string {
  if (names.length <= 6) return names.join(', ');
  return `${names.slice(0, 3).join(', ')} … ${names.slice(-2).join(', ')}`;
}

function pinned(chip: GpioChipInfo, offset: number): ResolvedGpioLine {
  const lineName = chip.lineNames?.[offset] ?? null;
  const sysfsNumber = chip.sysfsBase === undefined ? undefined : chip.sysfsBase + offset;
  const where = `${chip.label} offset ${offset}${sysfsNumber === undefined ? '' : `, sysfs ${sysfsNumber}`}`;
  const resolved: ResolvedGpioLine = {
    chipName: chip.name,
    chipLabel: chip.label,
    offset,
    lineName,
    text: lineName ? `${lineName} (${where})` : where,
  };
  if (sysfsNumber !== undefined) resolved.sysfsNumber = sysfsNumber;
  return resolved;
}
