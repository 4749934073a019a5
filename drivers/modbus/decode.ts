/**
 * Raw Modbus data → numbers. Registers arrive as 16-bit words, each sent high byte first; a 32-bit value spans
 * two words whose four bytes the device may send in any of four orders. Pure functions, no profile knowledge.
 */
import type { z } from 'zod';
import type { byteOrder, RegisterType } from '../../config/schema/index.js';

/** The order of the four bytes of a 32-bit value on the wire, A being the most significant. */
export type ByteOrder = z.output<typeof byteOrder>;

export const BYTE_ORDERS: readonly ByteOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];

/** How to read one value out of a run of registers. */
export interface WordSpec {
  type: RegisterType;
  /** For 32-bit types. */
  byteOrder?: ByteOrder;
  /** For type bit on a register. */
  bit?: number;
  /** For type bitfield: an inclusive bit range like "8-11". */
  bits?: string;
}

export interface Decoded {
  /**
   * The raw unsigned bits the value came from: the word (u16/s16), the 32-bit pattern in A..D order
   * (u32/s32/f32), the field (bitfield) or 0/1 (bit). Sentinels and status maps are matched against it.
   */
  raw: number;
  /** The number the type gives those bits. NaN or ±Infinity possible for f32. */
  value: number;
}

export interface BitRange {
  low: number;
  high: number;
}

/** Registers a value of this type occupies (bit on a coil counts one bit, not one register). */
export function registerWidth(type: RegisterType): 1 | 2 {
  return type === 'u32' || type === 's32' || type === 'f32' ? 2 : 1;
}

/** "8-11" → {low: 8, high: 11}; "3" → {low: 3, high: 3}; the bounds may be written either way round. */
export function parseBitRange(text: string): BitRange {
  const match = /^\s*(\d{1,2})\s*(?:-\s*(\d{1,2})\s*)?$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a bit range like "8-11"`);
  const a = Number(match[1]);
  const b = match[2] === undefined ? a : Number(match[2]);
  if (a > 15 || b > 15) throw new Error(`bit range "${text}" goes beyond bit 15`);
  return { low: Math.min(a, b), high: Math.max(a, b) };
}

export function extractBits(word: number, range: BitRange): number {
  const width = range.high - range.low + 1;
  return (word >>> range.low) & ((1 << width) - 1);
}

/** The 32-bit pattern (A most significant) from two words as received, given the wire byte order. */
export function combineWords(first: number, second: number, order: ByteOrder): number {
  const wire = [(first >>> 8) & 0xff, first & 0xff, (second >>> 8) & 0xff, second & 0xff];
  const significance = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) significance[order.charCodeAt(i) - 65] = wire[i]!;
  return ((significance[0]! << 24) | (significance[1]! << 16) | (significance[2]! << 8) | significance[3]!) >>> 0;
}

const scratch = new DataView(new ArrayBuffer(4));

function float32FromBits(bits: number): number {
  scratch.setUint32(0, bits);
  return scratch.getFloat32(0);
}

function word(words: readonly number[], index: number): number {
  const value = words[index];
  if (value === undefined) throw new RangeError(`register ${index} is beyond the ${words.length} read`);
  return value & 0xffff;
}

/** Decodes the value starting at `offset` in a run of registers (FC3/FC4). */
export function decodeWords(words: readonly number[], offset: number, spec: WordSpec): Decoded {
  switch (spec.type) {
    case 'u16': {
      const raw = word(words, offset);
      return { raw, value: raw };
    }
    case 's16': {
      const raw = word(words, offset);
      return { raw, value: raw >= 0x8000 ? raw - 0x10000 : raw };
    }
    case 'u32':
    case 's32':
    case 'f32': {
      const raw = combineWords(word(words, offset), word(words, offset + 1), spec.byteOrder ?? 'ABCD');
      if (spec.type === 'u32') return { raw, value: raw };
      if (spec.type === 's32') return { raw, value: raw | 0 };
      return { raw, value: float32FromBits(raw) };
    }
    case 'bit': {
      if (spec.bit === undefined) throw new Error('type bit on a register needs "bit"');
      const raw = (word(words, offset) >>> spec.bit) & 1;
      return { raw, value: raw };
    }
    case 'bitfield': {
      if (spec.bits === undefined) throw new Error('type bitfield needs "bits"');
      const raw = extractBits(word(words, offset), parseBitRange(spec.bits));
      return { raw, value: raw };
    }
  }
}

/** Decodes one coil or discrete input (FC1/FC2). */
export function decodeBit(bits: readonly boolean[], offset: number): Decoded {
  const bit = bits[offset];
  if (bit === undefined) throw new RangeError(`bit ${offset} is beyond the ${bits.length} read`);
  const raw = bit ? 1 : 0;
  return { raw, value: raw };
}

export interface Interpretation {
  /** Index of the first register used. */
  offset: number;
  type: 'u16' | 's16' | 'u32' | 's32' | 'f32';
  /** Only for the 32-bit types. */
  byteOrder?: ByteOrder;
  raw: number;
  value: number;
}

/**
 * Every reading of a register range side by side: u16 and s16 of each word, then u32, s32 and f32 in each byte
 * order for each pair of neighbouring words. A technician compares these with the probe's display to find
 * the type and byte order the manual forgot to state. Ordered by offset, then type, then byte order.
 */
export function decodeAllWays(words: readonly number[]): Interpretation[] {
  const out: Interpretation[] = [];
  for (let offset = 0; offset < words.length; offset++) {
    for (const type of ['u16', 's16'] as const) out.push({ offset, type, ...decodeWords(words, offset, { type }) });
    if (offset + 1 >= words.length) continue;
    for (const type of ['u32', 's32', 'f32'] as const) {
      for (const order of BYTE_ORDERS) {
        out.push({ offset, type, byteOrder: order, ...decodeWords(words, offset, { type, byteOrder: order }) });
      }
    }
  }
  return out;
}
