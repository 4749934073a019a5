import type { GpioChipInfo } from './line-catalog.js';
import type { GpioBias } from './types.js';

/**
 * The libgpiod command-line tools speak two dialects. v1 (1.6.x, Debian 12 / Raspberry Pi OS Bookworm):
 * `gpioset chip offset=value` exits at once unless given a mode, so `--mode=signal` keeps the line held until
 * SIGTERM; chips and lines are positional. v2 (2.x, Debian 13 Trixie): `gpioset` holds the line until killed
 * by default, the chip is `--chip`, `--banner` announces a successful request. Everything that depends on the
 * dialect — arguments and output formats — is here, as pure functions tested against the documented formats.
 */

export interface GpiodVersion {
  major: 1 | 2;
  minor: number;
  patch: number;
  text: string;
}

/** The consumer name our v2 requests carry (v1's tools cannot set one: they show "gpioset"/"gpiomon"). */
export const CONSUMER = 'vigil';

/** First line of `gpioset --version`: "gpioset (libgpiod) v1.6.3". */
export function parseGpiodVersion(output: string): GpiodVersion {
  const match = /\(libgpiod\)\s+v(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) throw new Error(`not a libgpiod tool version: "${firstLine(output)}"`);
  const major = Number(match[1]);
  if (major !== 1 && major !== 2) {
    throw new Error(`libgpiod tools v${major} are not supported (v1 and v2 are): "${firstLine(output)}"`);
  }
  return { major, minor: Number(match[2]), patch: Number(match[3] ?? 0), text: `v${match[1]}.${match[2]}.${match[3] ?? 0}` };
}

export interface DetectedChip {
  name: string;
  label: string;
  lineCount: number;
}

/** `gpiodetect`, the same in both dialects: "gpiochip0 [pinctrl-bcm2711] (58 lines)". */
export function parseGpiodetect(output: string): DetectedChip[] {
  const chips: DetectedChip[] = [];
  for (const line of output.split('\n')) {
    const match = /^(\S+)\s+\[(.*)\]\s+\((\d+) lines?\)\s*$/.exec(line.trim());
    if (match) chips.push({ name: match[1]!, label: match[2]!, lineCount: Number(match[3]) });
  }
  return chips;
}

export interface GpioinfoLine {
  offset: number;
  name: string | null;
  /** Who holds the line ("gpioset", "vigil", "kernel"), or null when it is free. */
  consumer: string | null;
  direction: 'input' | 'output';
  activeLow: boolean;
}

export interface GpioinfoChip {
  name: string;
  lineCount: number;
  lines: GpioinfoLine[];
}

// v1: `\tline  17:     "GPIO17"   "gpioset"  output  active-high [used]` (fields right-aligned, may overflow)
const V1_LINE =
  /^line\s+(\d+):\s+("[^"]*"|unnamed)\s+("[^"]*"|unused|kernel)\s+(input|output)\s+(active-high|active-low)\s*(?:\[([^\]]*)\])?$/;
// v2: `\tline  17:\t"GPIO17"        \toutput active-low consumer="vigil"`
const V2_LINE = /^line\s+(\d+):\s+("[^"]*"|unnamed)\s+(input|output)\b(.*)$/;

/** `gpioinfo` (all chips, or one), in either dialect. Lines the tools print differently are skipped. */
export function parseGpioinfo(output: string): GpioinfoChip[] {
  const chips: GpioinfoChip[] = [];
  let current: GpioinfoChip | undefined;
  for (const raw of output.split('\n')) {
    const text = raw.trim();
    const header = /^(\S+)\s+-\s+(\d+) lines?:$/.exec(text);
    if (header) {
      current = { name: header[1]!, lineCount: Number(header[2]), lines: [] };
      chips.push(current);
      continue;
    }
    if (!current) continue;
    const v1 = V1_LINE.exec(text);
    if (v1) {
      const consumer = v1[3]!;
      current.lines.push({
        offset: Number(v1[1]),
        name: unquote(v1[2]!),
        consumer: consumer === 'unused' ? null : (unquote(consumer) ?? consumer),
        direction: v1[4] as 'input' | 'output',
        activeLow: v1[5] === 'active-low',
      });
      continue;
    }
    const v2 = V2_LINE.exec(text);
    if (v2) {
      const attributes = v2[4]!;
      const consumer = /\bconsumer=(?:"([^"]*)"|(\S+))/.exec(attributes);
      current.lines.push({
        offset: Number(v2[1]),
        name: unquote(v2[2]!),
        consumer: consumer ? (consumer[1] ?? consumer[2] ?? null) : null,
        direction: v2[3] as 'input' | 'output',
        activeLow: /\bactive-low\b/.test(attributes),
      });
    }
  }
  return chips;
}

function unquote(token: string): string | null {
  if (token === 'unnamed') return null;
  return token.startsWith('"') && token.endsWith('"') ? token.slice(1, -1) : null;
}

/** gpiodetect gives labels, gpioinfo gives line names: together they are what resolution needs. */
export function chipCatalog(detected: readonly DetectedChip[], info: readonly GpioinfoChip[]): GpioChipInfo[] {
  return detected.map((chip) => {
    const lines = info.find((candidate) => candidate.name === chip.name)?.lines;
    const lineNames: Array<string | null> = Array.from({ length: chip.lineCount }, () => null);
    for (const line of lines ?? []) {
      if (line.offset < chip.lineCount) lineNames[line.offset] = line.name;
    }
    return { name: chip.name, label: chip.label, lineCount: chip.lineCount, lineNames };
  });
}

/**
 * `gpioget` output for one line, as a physical level: v1 prints "1"/"0"; v2 prints `"17"=active` (or unquoted,
 * or 0/1 with --numeric). We never pass --active-low, so active means high.
 */
export function parseGpiogetLevel(output: string): boolean {
  const text = output.trim();
  if (text === '1') return true;
  if (text === '0') return false;
  const match = /=(active|inactive)$/.exec(text);
  if (match) return match[1] === 'active';
  throw new Error(`unexpected gpioget output: "${firstLine(text)}"`);
}

export interface GpiomonEvent {
  offset: number;
  /** The wire went high (physical; we never pass --active-low). */
  rising: boolean;
}

/** Format for gpiomon's -F: offset and numeric event type. */
export const GPIOMON_FORMAT = '%o %e';

/**
 * One line of gpiomon output in GPIOMON_FORMAT. The event type is 1 for rising in both dialects; falling is 0 in
 * v1 and 2 in v2. Anything else (v2's banner) is not an event: null.
 */
export function parseGpiomonEvent(line: string, version: Pick<GpiodVersion, 'major'>): GpiomonEvent | null {
  const match = /^(\d+)\s+(\d)$/.exec(line.trim());
  if (!match) return null;
  const type = Number(match[2]);
  const falling = version.major === 1 ? 0 : 2;
  if (type !== 1 && type !== falling) return null;
  return { offset: Number(match[1]), rising: type === 1 };
}

/** Holds one output line at a physical level until the process is ended. */
export function gpiosetArgs(version: Pick<GpiodVersion, 'major'>, chip: string, offset: number, high: boolean): string[] {
  const assignment = `${offset}=${high ? 1 : 0}`;
  if (version.major === 1) return ['--mode=signal', chip, assignment];
  return ['--banner', '--consumer', CONSUMER, '--chip', chip, assignment];
}

/**
 * The bias option of gpioget/gpiomon: v1 spells "disable" and accepts "as-is"; v2 spells "disabled" and leaves
 * the bias unchanged when the option is absent.
 */
export function biasArgs(version: Pick<GpiodVersion, 'major'>, bias: GpioBias = 'as-is'): string[] {
  if (bias === 'as-is') return [];
  if (version.major === 1) return [`--bias=${bias === 'disabled' ? 'disable' : bias}`];
  return [`--bias=${bias}`];
}

/** Reads one line once (it is requested as an input for that instant). */
export function gpiogetArgs(version: Pick<GpiodVersion, 'major'>, chip: string, offset: number, bias?: GpioBias): string[] {
  if (version.major === 1) return [...biasArgs(version, bias), chip, String(offset)];
  return [...biasArgs(version, bias), '--chip', chip, String(offset)];
}

/** Lists the lines of one chip (v2 would take a bare argument for a line name). */
export function gpioinfoArgs(version: Pick<GpiodVersion, 'major'>, chip: string): string[] {
  return version.major === 1 ? [chip] : ['--chip', chip];
}

/** Watches one line for both edges, one flushed output line per event. */
export function gpiomonArgs(version: Pick<GpiodVersion, 'major'>, chip: string, offset: number, bias?: GpioBias): string[] {
  if (version.major === 1) return ['--line-buffered', ...biasArgs(version, bias), `--format=${GPIOMON_FORMAT}`, chip, String(offset)];
  return ['--banner', '--consumer', CONSUMER, '--edges=both', ...biasArgs(version, bias), `--format=${GPIOMON_FORMAT}`, '--chip', chip, String(offset)];
}

/** v2 prints this once the line is requested ("Setting line '17'...", "Monitoring line '17'..."). */
export function isBanner(line: string): boolean {
  return /^(Setting|Monitoring) lines? /.test(line.trim());
}

/** The consumer name gpioinfo shows for a line held by our own tool process. */
export function ownConsumer(version: Pick<GpiodVersion, 'major'>, tool: 'gpioset' | 'gpiomon'): string {
  return version.major === 1 ? tool : CONSUMER;
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}
