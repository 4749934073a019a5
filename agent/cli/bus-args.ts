/**
 * Command-line options that say where a field bus is and how to talk on it, shared by the technician commands
 * (scan, read, write, profile new). Every bad value is a UsageError naming the option and what it accepts.
 */
import type { Transport } from '../bus/index.js';
import type { LineSettings } from '../../drivers/modbus/index.js';
import type { Endpoint } from '../technician/index.js';
import type { OptionSpec, ParsedCommandArgs } from './command.js';
import { UsageError } from './exit-codes.js';

export const BUS_OPTIONS: Record<string, OptionSpec> = {
  port: { type: 'string', valueName: 'PATH', description: 'Serial port of the RS-485 adapter, e.g. /dev/ttyUSB0.' },
  tcp: { type: 'string', valueName: 'HOST:PORT', description: 'RTU over TCP: a serial device server (or the simulator).' },
  baud: { type: 'string', valueName: 'N', description: 'Baud rate (default 9600).' },
  parity: { type: 'string', valueName: 'P', description: 'none, even or odd (default none).' },
  'data-bits': { type: 'string', valueName: 'N', description: '7 or 8 (default 8).' },
  'stop-bits': { type: 'string', valueName: 'N', description: '1 or 2 (default 1).' },
  timeout: { type: 'string', valueName: 'MS', description: 'How long a device may take to answer, ms (default 500).' },
};

export const BAUD_RATES = [1200, 2400, 4800, 9600, 14400, 19200, 38400, 57600, 115200] as const;
const PARITIES = ['none', 'even', 'odd'] as const;

function text(args: ParsedCommandArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** An integer in decimal or 0x hex, within [min, max]. */
export function parseInteger(name: string, value: string, min: number, max: number): number {
  const trimmed = value.trim();
  const parsed = /^0x[0-9a-f]+$/i.test(trimmed) ? Number.parseInt(trimmed.slice(2), 16) : /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${name} ${JSON.stringify(value)}: expected an integer ${min}-${max} (decimal or 0x hex)`);
  }
  return parsed;
}

export function integerOption(args: ParsedCommandArgs, name: string, min: number, max: number, fallback: number): number;
export function integerOption(args: ParsedCommandArgs, name: string, min: number, max: number): number | undefined;
export function integerOption(args: ParsedCommandArgs, name: string, min: number, max: number, fallback?: number): number | undefined {
  const value = text(args, name);
  return value === undefined ? fallback : parseInteger(name, value, min, max);
}

export function parseBaud(value: string): number {
  const baud = parseInteger('baud', value, 1, 4_000_000);
  if (!(BAUD_RATES as readonly number[]).includes(baud)) {
    throw new UsageError(`--baud ${baud}: not a usual baud rate (${BAUD_RATES.join(', ')})`);
  }
  return baud;
}

export function parseParity(value: string): LineSettings['parity'] {
  const parity = value.trim().toLowerCase();
  if (!(PARITIES as readonly string[]).includes(parity)) throw new UsageError(`--parity ${JSON.stringify(value)}: expected none, even or odd`);
  return parity as LineSettings['parity'];
}

function frameBits(args: ParsedCommandArgs): Pick<LineSettings, 'dataBits' | 'stopBits'> {
  const dataBits = integerOption(args, 'data-bits', 7, 8, 8) as 7 | 8;
  const stopBits = integerOption(args, 'stop-bits', 1, 2, 1) as 1 | 2;
  return { dataBits, stopBits };
}

/** Where the bus is: exactly one of --port and --tcp. */
export function endpointOf(args: ParsedCommandArgs): Endpoint {
  const port = text(args, 'port');
  const tcp = text(args, 'tcp');
  if (port !== undefined && tcp !== undefined) throw new UsageError('give either --port or --tcp, not both');
  if (port !== undefined) {
    if (port.trim() === '') throw new UsageError('--port needs a path, e.g. /dev/ttyUSB0');
    return { kind: 'serial', path: port };
  }
  if (tcp !== undefined) {
    const match = /^(.+):(\d{1,5})$/.exec(tcp.trim());
    const portNumber = match ? Number(match[2]) : Number.NaN;
    if (!match || portNumber < 1 || portNumber > 65535) throw new UsageError(`--tcp ${JSON.stringify(tcp)}: expected HOST:PORT, e.g. 192.168.1.50:4001`);
    return { kind: 'tcp', host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: portNumber };
  }
  throw new UsageError('say where the bus is: --port /dev/ttyUSB0 (serial adapter) or --tcp HOST:PORT (device server)');
}

/** One line setting from --baud/--parity/--data-bits/--stop-bits (defaults 9600 8N1). */
export function lineOf(args: ParsedCommandArgs): LineSettings {
  const baud = text(args, 'baud');
  const parity = text(args, 'parity');
  return { baud: baud === undefined ? 9600 : parseBaud(baud), parity: parity === undefined ? 'none' : parseParity(parity), ...frameBits(args) };
}

/** The transport for a single-line command (read, write, profile new). */
export function transportOf(args: ParsedCommandArgs): Transport {
  const endpoint = endpointOf(args);
  const line = lineOf(args);
  return endpoint.kind === 'serial' ? { ...endpoint, line } : { ...endpoint, line };
}

/** Line settings to walk: every combination of the --baud and --parity lists. */
export function linesToScan(args: ParsedCommandArgs, defaults: { bauds: number[]; parities: Array<LineSettings['parity']> }): LineSettings[] {
  const bauds = listOf(text(args, 'baud')).map(parseBaud);
  const parities = listOf(text(args, 'parity')).map(parseParity);
  const bits = frameBits(args);
  const lines: LineSettings[] = [];
  for (const baud of bauds.length > 0 ? bauds : defaults.bauds) {
    for (const parity of parities.length > 0 ? parities : defaults.parities) lines.push({ baud, parity, ...bits });
  }
  return lines;
}

function listOf(value: string | undefined): string[] {
  if (value === undefined) return [];
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`${JSON.stringify(value)}: an empty item in a comma-separated list`);
  return [...new Set(items)];
}

/** "1-10,15,20-22" → [1..10, 15, 20, 21, 22], each a Modbus unit id (1-247). */
export function parseUnits(value: string): number[] {
  const units = new Set<number>();
  for (const item of listOf(value)) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!match) throw new UsageError(`--units ${JSON.stringify(value)}: expected ids and ranges like 1-10,15`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (first < 1 || last > 247 || first > last) {
      throw new UsageError(`--units ${JSON.stringify(item)}: unit ids run from 1 to 247, low-high`);
    }
    for (let unit = first; unit <= last; unit++) units.add(unit);
  }
  return [...units].sort((a, b) => a - b);
}
