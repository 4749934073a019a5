/**
 * Every way a run of registers can be read, side by side: the technician compares these with the number on the
 * probe's display to find the type and byte order the manual forgot to state.
 */
import { BYTE_ORDERS, decodeAllWays, type ByteOrder } from '../../drivers/modbus/index.js';

export interface WordRow {
  address: number;
  hex: string;
  u16: number;
  s16: number;
}

export interface WideValue {
  /** The 32-bit pattern, most significant byte first, as 8 hex digits. */
  hex: string;
  /** Null when a float is NaN or infinite (text says which). */
  value: number | null;
  text: string;
}

export interface WideRow {
  /** Address of the first of the two registers. */
  address: number;
  type: 'u32' | 's32' | 'f32';
  orders: Record<ByteOrder, WideValue>;
}

export interface DecodeTable {
  words: WordRow[];
  wide: WideRow[];
}

export function hex16(word: number): string {
  return word.toString(16).toUpperCase().padStart(4, '0');
}

export function formatAddress(address: number): string {
  return `0x${hex16(address)}`;
}

/** A float as a person reads it: 7 significant digits at most, no binary noise, no exponent for usual sizes. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return value.toExponential(4);
  return String(Number(value.toPrecision(7)));
}

export function decodeTable(startAddress: number, registers: readonly number[]): DecodeTable {
  const words: WordRow[] = [];
  const wide = new Map<string, WideRow>();
  for (const item of decodeAllWays(registers)) {
    const address = startAddress + item.offset;
    if (item.type === 'u16') {
      words.push({ address, hex: hex16(item.raw), u16: item.value, s16: item.value >= 0x8000 ? item.value - 0x10000 : item.value });
      continue;
    }
    if (item.type === 's16' || item.byteOrder === undefined) continue;
    const key = `${address}/${item.type}`;
    let row = wide.get(key);
    if (!row) {
      row = { address, type: item.type, orders: {} as Record<ByteOrder, WideValue> };
      wide.set(key, row);
    }
    const finite = Number.isFinite(item.value);
    const value = finite && item.type === 'f32' ? Number(item.value.toPrecision(7)) : item.value;
    row.orders[item.byteOrder] = {
      hex: item.raw.toString(16).toUpperCase().padStart(8, '0'),
      value: finite ? value : null,
      text: formatNumber(value),
    };
  }
  return { words, wide: [...wide.values()] };
}

/** The table as fixed-width text: one line per register, then the 32-bit readings in the four byte orders. */
export function renderDecodeTable(table: DecodeTable): string {
  const lines = [`${'address'.padEnd(8)} ${'hex'.padEnd(6)} ${'u16'.padStart(6)} ${'s16'.padStart(7)}`];
  for (const row of table.words) {
    lines.push(`${formatAddress(row.address).padEnd(8)} ${row.hex.padEnd(6)} ${String(row.u16).padStart(6)} ${String(row.s16).padStart(7)}`);
  }
  if (table.wide.length > 0) {
    lines.push('');
    lines.push(
      `${'32-bit at'.padEnd(9)} ${'type'.padEnd(4)} ${BYTE_ORDERS.map((o) => `${o} (${describeOrder(o)})`.padStart(22)).join(' ')}`,
    );
    for (const row of table.wide) {
      const cells = BYTE_ORDERS.map((order) => row.orders[order].text.padStart(22));
      lines.push(`${formatAddress(row.address).padEnd(9)} ${row.type.padEnd(4)} ${cells.join(' ')}`);
    }
  }
  return lines.join('\n');
}

function describeOrder(order: ByteOrder): string {
  switch (order) {
    case 'ABCD':
      return 'big-endian';
    case 'CDAB':
      return 'word swap';
    case 'BADC':
      return 'byte swap';
    case 'DCBA':
      return 'little-end.';
  }
}
