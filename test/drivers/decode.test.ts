import { describe, expect, it } from 'vitest';
import {
  combineWords,
  decodeAllWays,
  decodeBit,
  decodeWords,
  extractBits,
  parseBitRange,
  registerWidth,
  type ByteOrder,
} from '../../drivers/modbus/decode.js';

// Expected words written by hand: the 32-bit pattern split into bytes A B C D (A most significant), then placed
// on the wire in the order the letters say, two bytes per register, first byte = high byte of the register.
//   u32 305419896  = 0x12345678 → A=12 B=34 C=56 D=78
//   s32 -123456789 = 0xF8A432EB (two's complement of 0x075BCD15) → A=F8 B=A4 C=32 D=EB
//   f32 123.456    = 0x42F6E979 (sign 0, exponent 133 = 127+6, 123.456 = 1.929 × 2^6) → A=42 B=F6 C=E9 D=79
//   f32 -12.5      = 0xC1480000 (sign 1, exponent 130, 12.5 = 1.5625 × 2^3)
const CASES: Array<{ type: 'u32' | 's32' | 'f32'; value: number; words: Record<ByteOrder, [number, number]> }> = [
  {
    type: 'u32',
    value: 305419896,
    words: { ABCD: [0x1234, 0x5678], CDAB: [0x5678, 0x1234], BADC: [0x3412, 0x7856], DCBA: [0x7856, 0x3412] },
  },
  {
    type: 's32',
    value: -123456789,
    words: { ABCD: [0xf8a4, 0x32eb], CDAB: [0x32eb, 0xf8a4], BADC: [0xa4f8, 0xeb32], DCBA: [0xeb32, 0xa4f8] },
  },
  {
    type: 'f32',
    value: Math.fround(123.456),
    words: { ABCD: [0x42f6, 0xe979], CDAB: [0xe979, 0x42f6], BADC: [0xf642, 0x79e9], DCBA: [0x79e9, 0xf642] },
  },
  {
    type: 'f32',
    value: -12.5,
    words: { ABCD: [0xc148, 0x0000], CDAB: [0x0000, 0xc148], BADC: [0x48c1, 0x0000], DCBA: [0x0000, 0x48c1] },
  },
];

describe('decodeWords, 32-bit types in every byte order', () => {
  for (const { type, value, words } of CASES) {
    for (const order of ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const) {
      it(`${type} ${value} in ${order} = [${words[order].map((w) => '0x' + w.toString(16)).join(', ')}]`, () => {
        expect(decodeWords(words[order], 0, { type, byteOrder: order }).value).toBe(value);
      });
    }
  }

  it('reads at an offset inside a longer block', () => {
    expect(decodeWords([0xdead, 0xe979, 0x42f6, 0xbeef], 1, { type: 'f32', byteOrder: 'CDAB' }).value).toBe(
      Math.fround(123.456),
    );
  });

  it('keeps the raw 32-bit pattern in A..D order for sentinels', () => {
    expect(decodeWords([0x5678, 0x1234], 0, { type: 'u32', byteOrder: 'CDAB' }).raw).toBe(0x12345678);
    expect(decodeWords([0xffff, 0xffff], 0, { type: 's32', byteOrder: 'ABCD' })).toEqual({ raw: 0xffffffff, value: -1 });
  });

  it('defaults to ABCD (big-endian) when no byte order is given', () => {
    expect(decodeWords([0x1234, 0x5678], 0, { type: 'u32' }).value).toBe(0x12345678);
  });

  it('gives NaN for a NaN float pattern so the caller can reject it', () => {
    expect(Number.isNaN(decodeWords([0x7fc0, 0x0000], 0, { type: 'f32' }).value)).toBe(true);
  });

  it('combines words into the A..D pattern', () => {
    expect(combineWords(0x3412, 0x7856, 'BADC')).toBe(0x12345678);
    expect(combineWords(0x7856, 0x3412, 'DCBA')).toBe(0x12345678);
  });
});

describe('decodeWords, 16-bit types', () => {
  it('reads u16 as unsigned', () => {
    expect(decodeWords([0xff85], 0, { type: 'u16' })).toEqual({ raw: 0xff85, value: 65413 });
  });

  it('reads s16 with its sign: 0xFF85 is -123 (a draw-wire gauge at -12.3 mm)', () => {
    // 0xFF85 = 65413; 65413 - 65536 = -123
    expect(decodeWords([0xff85], 0, { type: 's16' })).toEqual({ raw: 0xff85, value: -123 });
    expect(decodeWords([0x8000], 0, { type: 's16' }).value).toBe(-32768);
    expect(decodeWords([0x7fff], 0, { type: 's16' }).value).toBe(32767);
    expect(decodeWords([0x0000], 0, { type: 's16' }).value).toBe(0);
  });

  it('reads one bit of a register, bit 0 least significant', () => {
    expect(decodeWords([0x8001], 0, { type: 'bit', bit: 0 }).value).toBe(1);
    expect(decodeWords([0x8001], 0, { type: 'bit', bit: 1 }).value).toBe(0);
    expect(decodeWords([0x8001], 0, { type: 'bit', bit: 15 }).value).toBe(1);
  });

  it('reads inclusive bitfields', () => {
    // 0x2C00: bits 15-12 = 0x2, bits 11-8 = 0xC
    expect(decodeWords([0x2c00], 0, { type: 'bitfield', bits: '12-15' }).value).toBe(2);
    expect(decodeWords([0x2c00], 0, { type: 'bitfield', bits: '8-11' }).value).toBe(12);
    expect(decodeWords([0x0b05], 0, { type: 'bitfield', bits: '8-15' }).value).toBe(11);
    expect(decodeWords([0x0b05], 0, { type: 'bitfield', bits: '0-7' }).value).toBe(5);
    expect(decodeWords([0xffff], 0, { type: 'bitfield', bits: '0-15' }).value).toBe(0xffff);
    expect(decodeWords([0x0010], 0, { type: 'bitfield', bits: '4' }).value).toBe(1);
  });

  it('refuses to read beyond the registers received', () => {
    expect(() => decodeWords([0x1234], 0, { type: 'u32' })).toThrow(RangeError);
    expect(() => decodeWords([0x1234], 1, { type: 'u16' })).toThrow(RangeError);
  });
});

describe('bits and helpers', () => {
  it('reads coils and discrete inputs as 0/1', () => {
    expect(decodeBit([false, true, false], 1)).toEqual({ raw: 1, value: 1 });
    expect(decodeBit([false, true, false], 2)).toEqual({ raw: 0, value: 0 });
    expect(() => decodeBit([true], 3)).toThrow(RangeError);
  });

  it('parses bit ranges either way round and rejects nonsense', () => {
    expect(parseBitRange('8-11')).toEqual({ low: 8, high: 11 });
    expect(parseBitRange('11-8')).toEqual({ low: 8, high: 11 });
    expect(parseBitRange('3')).toEqual({ low: 3, high: 3 });
    expect(() => parseBitRange('16')).toThrow();
    expect(() => parseBitRange('a-b')).toThrow();
    expect(extractBits(0xabcd, { low: 4, high: 7 })).toBe(0xc);
  });

  it('knows how many registers each type spans', () => {
    expect([registerWidth('u16'), registerWidth('s16'), registerWidth('bit'), registerWidth('bitfield')]).toEqual([1, 1, 1, 1]);
    expect([registerWidth('u32'), registerWidth('s32'), registerWidth('f32')]).toEqual([2, 2, 2]);
  });
});

describe('decodeAllWays', () => {
  it('shows every type and byte order side by side, so the probe display can be matched', () => {
    const all = decodeAllWays([0xe979, 0x42f6]);
    // two words: u16 and s16 of each (4), plus u32, s32, f32 × 4 byte orders of the pair (12)
    expect(all).toHaveLength(16);
    expect(all.filter((i) => i.offset === 1).map((i) => i.type)).toEqual(['u16', 's16']);
    const match = all.filter((i) => Math.abs(i.value - 123.456) < 0.001);
    expect(match).toEqual([{ offset: 0, type: 'f32', byteOrder: 'CDAB', raw: 0x42f6e979, value: Math.fround(123.456) }]);
    // 0xE979 = 59769 unsigned, 59769 - 65536 = -5767 signed
    expect(all[0]).toEqual({ offset: 0, type: 'u16', raw: 0xe979, value: 59769 });
    expect(all[1]).toEqual({ offset: 0, type: 's16', raw: 0xe979, value: -5767 });
  });

  it('returns nothing for no words and only 16-bit readings for one word', () => {
    expect(decodeAllWays([])).toEqual([]);
    expect(decodeAllWays([0x0001]).map((i) => i.type)).toEqual(['u16', 's16']);
  });
});
